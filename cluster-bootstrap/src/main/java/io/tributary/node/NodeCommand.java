package io.tributary.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import io.tributary.config.ConfigError;
import io.tributary.config.ConfigLoader;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code tributary node}: runs one cluster node until its actor system terminates (SIGTERM, a
 * downing, a protocol mismatch). Returns 0 after an ordinary shutdown, 2 on a fixable error.
 */
public final class NodeCommand {

    static final String USAGE = String.join("\n",
            "usage: tributary node [options]",
            "",
            "options:",
            "  --roles R1,R2      roles of this node: coordinator, ps, trainer (default all three)",
            "  --host HOST        address other nodes reach this one at (default 127.0.0.1)",
            "  --port P           Pekko port (default 25520; 0 picks a free one)",
            "  --join HOST:PORT   a seed node to join; repeat or separate with commas (default: start a new cluster)",
            "  --metrics-port M   port of the Prometheus /metrics endpoint (default 0: a free one)",
            "  --resume PATH      (coordinator and ps nodes) go on from a checkpoint or a run folder's last one",
            "  --tls-dir DIR      this node's certificate folder (node.crt, node.key, ca.crt from 'tributary certs sign')",
            "  --config FILE      a HOCON file with tributary.* settings",
            "  --set KEY=VALUE    set any config key");

    private static final Map<String, String> FLAG_KEYS = Map.of(
            "--port", "tributary.node.port",
            "--host", "tributary.node.host",
            "--metrics-port", "tributary.node.metrics-port",
            "--resume", "tributary.cluster.resume-from",
            "--tls-dir", "tributary.tls.dir");

    private NodeCommand() {
    }

    /** Entry point for child JVMs and scripts; {@code tributary node} calls {@link #run}. */
    public static void main(String[] args) {
        System.exit(run(List.of(args), System.out, System.err));
    }

    /**
     * Runs {@code tributary node} with the arguments after {@code node}; blocks until the node's
     * actor system terminates and returns the exit status.
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        TributaryNode node;
        try {
            Path configFile = null;
            Map<String, String> overrides = new LinkedHashMap<>();
            List<String> seeds = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                switch (a) {
                    case "--help", "-h" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    case "--config" -> configFile = Path.of(value(args, ++i, a));
                    case "--roles" -> overrides.put("tributary.node.roles", hoconList(split(value(args, ++i, a))));
                    case "--join" -> seeds.addAll(split(value(args, ++i, a)));
                    case "--set" -> {
                        String kv = value(args, ++i, a);
                        int eq = kv.indexOf('=');
                        if (eq <= 0) {
                            throw new IllegalArgumentException("--set needs KEY=VALUE, got '" + kv + "'");
                        }
                        overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
                    }
                    default -> {
                        if (!FLAG_KEYS.containsKey(a)) {
                            throw new IllegalArgumentException("unknown option '" + a + "' for 'node'; see 'tributary node --help'");
                        }
                        overrides.put(FLAG_KEYS.get(a), value(args, ++i, a));
                    }
                }
            }
            if (!seeds.isEmpty()) {
                overrides.put("tributary.node.seed-nodes", hoconList(seeds));
            }
            Config config = ConfigLoader.load(configFile, overrides);
            NodeSettings settings = NodeSettings.from(config);
            node = ClusterTraining.launch(settings, config, new LoggingListener(out));
            out.println("tributary node " + node.address() + " started, roles " + settings.roles()
                    + ", joining " + (settings.seedNodes().isEmpty() ? "itself" : settings.seedNodes())
                    + "; metrics at http://" + settings.host() + ":" + node.metricsPort() + "/metrics");
            out.flush();
        } catch (NodeStartException | ConfigError | IllegalArgumentException e) {
            err.println("tributary: error: " + e.getMessage());
            return 2;
        }
        node.whenTerminated().toCompletableFuture().join();
        Optional<String> failure = node.failure();
        if (failure.isPresent()) {
            err.println("tributary: node stopped: " + failure.get());
            return 2;
        }
        out.println("tributary node " + node.address() + " stopped");
        return 0;
    }

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

    private static String value(List<String> args, int i, String flag) {
        if (i >= args.size() || args.get(i).startsWith("--")) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args.get(i);
    }
}
