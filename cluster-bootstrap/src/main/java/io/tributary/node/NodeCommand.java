package io.tributary.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import io.tributary.cli.CommandRunner;
import io.tributary.cli.ConfigSetting;
import io.tributary.cli.HelpOption;
import io.tributary.config.ConfigLoader;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tributary node}: runs one cluster node until its actor system terminates (SIGTERM, a
 * downing, a protocol mismatch). Returns 0 after an ordinary shutdown, 2 on a fixable error.
 * Options become config overrides in command-line order (a later one for the same key wins);
 * the seeds of every {@code --join} go last.
 */
@Command(name = "node",
        description = "Run one cluster node until it stops (SIGTERM, a downing, a protocol mismatch).",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:the node stopped in the ordinary way",
            "1:an unexpected error (the log has the details)",
            "2:a usage error, one you can fix, or the node stopped on a failure: one line says which"})
public final class NodeCommand implements Callable<Integer> {

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> overrides = new LinkedHashMap<>();
    private final List<String> seeds = new ArrayList<>();
    private Path configFile;

    @Mixin
    final HelpOption help = new HelpOption();

    private NodeCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** The command, printing to {@code out} and {@code err}; {@code tributary} adds it to its own. */
    public static CommandLine commandLine(PrintStream out, PrintStream err) {
        return new CommandLine(new NodeCommand(out, err));
    }

    /** Entry point for child JVMs and scripts; {@code tributary node} runs the same command. */
    public static void main(String[] args) {
        System.exit(run(List.of(args), System.out, System.err));
    }

    /**
     * Runs {@code tributary node} with the arguments after {@code node}; blocks until the node's
     * actor system terminates and returns the exit status.
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return CommandRunner.execute(commandLine(out, err).setCommandName("tributary node"), args.toArray(String[]::new),
                out, err);
    }

    @Option(names = "--roles", paramLabel = "ROLES",
            description = {"roles of this node, separated by commas: coordinator,", "ps, trainer (default all three)"})
    void roles(String roles) {
        overrides.put("tributary.node.roles", hoconList(split(roles)));
    }

    @Option(names = "--host", paramLabel = "HOST", description = "address other nodes reach this one at (default 127.0.0.1)")
    void host(String host) {
        overrides.put("tributary.node.host", host);
    }

    @Option(names = "--port", paramLabel = "P",
            description = {"Pekko port (default 25520; 0 picks a free one, and then", "the data-plane and metrics"
                + " ports are free ones too)"})
    void port(String port) {
        overrides.put("tributary.node.port", port);
    }

    @Option(names = "--bind-host", paramLabel = "ADDR",
            description = {"address to listen on when it is not --host (in a container or", "behind a port-forward,"
                + " e.g. 0.0.0.0; default: --host)"})
    void bindHost(String host) {
        overrides.put("tributary.node.bind-host", host);
    }

    @Option(names = "--bind-port", paramLabel = "P", description = "Pekko port to listen on when it is not --port")
    void bindPort(String port) {
        overrides.put("tributary.node.bind-port", port);
    }

    @Option(names = "--data-port", paramLabel = "P",
            description = {"UDP port of the data plane (default auto: the Pekko", "port + 1; 0 picks a free one)"})
    void dataPort(String port) {
        overrides.put("tributary.data-plane.port", port);
    }

    @Option(names = "--data", paramLabel = "DIR", description = "the MNIST folder (trainer and coordinator nodes)")
    void data(String dir) {
        overrides.put("tributary.data.dir", dir);
    }

    @Option(names = "--dataset", paramLabel = "SET", description = "mnist or synthetic (every node must agree)")
    void dataset(String set) {
        overrides.put("tributary.data.set", set);
    }

    @Option(names = "--epochs", paramLabel = "N", description = "(coordinator) passes over the training set")
    void epochs(String n) {
        overrides.put("tributary.train.epochs", n);
    }

    @Option(names = "--run-dir", paramLabel = "DIR",
            description = {"(coordinator) where the run's history, checkpoints and", "credits.json are written"})
    void runDir(String dir) {
        overrides.put("tributary.cluster.run-dir", dir);
    }

    @Option(names = "--join", paramLabel = "HOST:PORT",
            description = "a seed node to join; repeat or separate with commas (default: start a new cluster)")
    void join(String seedNodes) {
        seeds.addAll(split(seedNodes));
    }

    @Option(names = "--metrics-port", paramLabel = "M",
            description = {"port of the Prometheus /metrics endpoint (default auto:", "the Pekko port + 2; 0 picks"
                + " a free one)"})
    void metricsPort(String port) {
        overrides.put("tributary.node.metrics-port", port);
    }

    @Option(names = "--resume", paramLabel = "PATH",
            description = "(coordinator and ps nodes) go on from a checkpoint or a run folder's last one")
    void resume(String checkpoint) {
        overrides.put("tributary.cluster.resume-from", checkpoint);
    }

    @Option(names = "--tls-dir", paramLabel = "DIR",
            description = {"this node's certificate folder: node.crt, node.key",
                "and ca.crt from 'tributary certs sign'"})
    void tlsDir(String dir) {
        overrides.put("tributary.tls.dir", dir);
    }

    @Option(names = "--config", paramLabel = "FILE", description = "a HOCON file with tributary.* settings")
    void config(Path file) {
        configFile = file;
    }

    @Option(names = "--set", paramLabel = "KEY=VALUE", converter = ConfigSetting.class,
            description = "set any config key; repeat it for more")
    void set(Map.Entry<String, String> setting) {
        overrides.put(setting.getKey(), setting.getValue());
    }

    @Override
    public Integer call() {
        if (!seeds.isEmpty()) {
            overrides.put("tributary.node.seed-nodes", hoconList(seeds));
        }
        Config config = ConfigLoader.load(configFile, overrides);
        NodeSettings settings = NodeSettings.from(config);
        TributaryNode node = ClusterTraining.launch(settings, config, new LoggingListener(out));
        out.println("tributary node " + node.address() + " started, roles " + settings.roles()
                + ", joining " + (settings.seedNodes().isEmpty() ? "itself" : settings.seedNodes())
                + "; metrics at http://" + settings.host() + ":" + node.metricsPort() + "/metrics");
        out.flush();
        awaitStop(node);
        Optional<String> failure = node.failure();
        if (failure.isPresent()) {
            err.println("tributary: node stopped: " + failure.get());
            return CommandRunner.USAGE;
        }
        out.println("tributary node " + node.address() + " stopped");
        return CommandRunner.OK;
    }

    /**
     * Waits until the node's actor system has terminated; once the node is stopping on a failure, at most
     * {@link #STOP_GRACE} more, so that a shutdown that hangs (a peer it cannot reach) does not keep the command
     * from saying why it stopped.
     */
    private static void awaitStop(TributaryNode node) {
        java.util.concurrent.CompletableFuture<?> terminated = node.whenTerminated().toCompletableFuture();
        long failingSince = 0;
        while (true) {
            try {
                terminated.get(1, java.util.concurrent.TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.TimeoutException e) {
                if (node.failure().isPresent()) {
                    long now = System.nanoTime();
                    if (failingSince == 0) {
                        failingSince = now;
                    } else if (now - failingSince > STOP_GRACE.toNanos()) {
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                return; // terminated, exceptionally: failure() says why
            }
        }
    }

    /** How long a node stopping on a failure may take to terminate before the command returns anyway. */
    static final java.time.Duration STOP_GRACE = java.time.Duration.ofSeconds(30);

    private static List<String> split(String value) {
        List<String> parts = new ArrayList<>();
        for (String p : value.split(",")) {
            if (!p.isBlank()) {
                parts.add(p.trim());
            }
        }
        return parts;
    }

    /** A HOCON list of quoted strings, so host:port and odd role names survive parsing. */
    private static String hoconList(List<String> values) {
        return ConfigValueFactory.fromIterable(values).render(ConfigRenderOptions.concise());
    }
}
