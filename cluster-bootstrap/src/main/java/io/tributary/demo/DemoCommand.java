package io.tributary.demo;

import io.tributary.coordinator.RunResult;
import io.tributary.coordinator.RunListener;
import com.typesafe.config.Config;
import io.tributary.cli.ProgressBar;
import io.tributary.config.ConfigLoader;
import io.tributary.node.ClusterTraining;
import io.tributary.node.NodeSettings;
import io.tributary.node.TributaryNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code tributary demo}: a local cluster of separate JVMs on 127.0.0.1 that trains the model
 * together. This JVM is the coordinator node (and the seed); it starts the parameter-server and
 * trainer JVMs, shows one progress bar for the run, prints the result, and stops every JVM it
 * started (also on Ctrl-C).
 */
public final class DemoCommand {

    /** What the user asked for on the command line. */
    public record Options(int trainers, int psNodes, Path configFile, Map<String, String> overrides, Path runsDir,
                          Duration timeout, Map<Integer, Map<String, String>> trainerOverrides, String runName,
                          Map<String, List<String>> childJvmOptions, Hooks hooks) {

        public Options(int trainers, int psNodes, Path configFile, Map<String, String> overrides, Path runsDir,
                       Duration timeout) {
            this(trainers, psNodes, configFile, overrides, runsDir, timeout, Map.of());
        }

        public Options(int trainers, int psNodes, Path configFile, Map<String, String> overrides, Path runsDir,
                       Duration timeout, Map<Integer, Map<String, String>> trainerOverrides) {
            this(trainers, psNodes, configFile, overrides, runsDir, timeout, trainerOverrides, "demo", Map.of(),
                    Hooks.NONE);
        }
    }

    /** What a caller (the chaos runner) may watch and do while the local cluster runs. */
    public interface Hooks {
        Hooks NONE = new Hooks() {
        };

        /**
         * Every JVM has been started; {@code children} can be signalled by name, and
         * {@code startTrainer} starts one more JVM of that name (it joins mid-run): a ps node when the
         * name starts with {@code ps-}, else a trainer.
         */
        default void started(ChildJvms children, Path runDir, java.util.function.Consumer<String> startTrainer) {
        }

        /** A copy of every coordinator event, on the coordinator's thread. */
        default RunListener observer() {
            return null;
        }

        /**
         * Whether each child JVM reads in-process faults from {@code <run>/control/<name>}
         * ({@code tributary.chaos.control-file}; the chaos tool writes them).
         */
        default boolean controlFiles() {
            return false;
        }
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DemoCommand.class);

    private final Options options;
    private final PrintStream out;
    /** Frame bytes every node's data plane sent in the last run (-1: a node's metrics could not be read). */
    private long dataPlaneBytes = -1;

    public DemoCommand(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    /**
     * Frame bytes (headers included, as encoded) all nodes' data planes sent during the last
     * {@link #run()}, read from their metrics before they stopped; -1 when some node's could not be read.
     */
    public long dataPlaneBytes() {
        return dataPlaneBytes;
    }

    /** Runs the demo; returns the final test accuracy. */
    public RunResult run() throws IOException, InterruptedException {
        long runId = 1 + ThreadLocalRandom.current().nextLong(1L << 40);
        Map<String, String> common = new LinkedHashMap<>(options.overrides());
        common.put("tributary.cluster.run-id", Long.toString(runId));
        common.put("tributary.cluster.min-trainers", Integer.toString(options.trainers()));
        Map<String, String> coordinatorOverrides = new LinkedHashMap<>(common);
        // This JVM follows the run (its events come from the coordinator, wherever it runs) and is the seed; the
        // coordinator singleton runs on one of the coordinator JVMs it starts, the others stand by to take over.
        coordinatorOverrides.put("tributary.node.roles", "[observer]");
        coordinatorOverrides.put("tributary.node.port", "0");
        Path runDir = options.runsDir().resolve(options.runName() + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Files.createDirectories(runDir);
        coordinatorOverrides.put("tributary.cluster.run-dir", runDir.toAbsolutePath().toString());
        DemoCertificates certs = DemoCertificates.create(ConfigLoader.load(options.configFile(), coordinatorOverrides),
                runDir);
        if (certs != null) {
            coordinatorOverrides.put("tributary.tls.dir", certs.forNode("launcher", "observer").toString());
        }
        Config config = ConfigLoader.load(options.configFile(), coordinatorOverrides);
        NodeSettings nodeSettings = NodeSettings.from(config);
        int coordinators = config.getInt("tributary.cluster.coordinator-nodes");
        if (coordinators < 1) {
            throw new IllegalArgumentException("tributary.cluster.coordinator-nodes = " + coordinators + " is invalid: the"
                    + " run needs at least 1 coordinator JVM (2 or more to survive losing one)");
        }
        CompletableFuture<RunResult> result = new CompletableFuture<>();
        Listener listener = new Listener(result);

        TributaryNode node = ClusterTraining.launch(nodeSettings, config, listener);
        if (options.hooks().controlFiles()) {
            // the chaos tool's split names this node by its address (it has no control file of its own)
            Path control = runDir.resolve("control");
            Files.createDirectories(control);
            Files.writeString(control.resolve("launcher.address"), node.address().host().get() + ":"
                    + node.address().port().get() + "|-\n", java.nio.charset.StandardCharsets.UTF_8);
        }
        try (ChildJvms children = new ChildJvms()) {
            String seed = nodeSettings.host() + ":" + node.port();
            out.println("run " + runId + ": launcher " + node.address() + ", metrics http://" + nodeSettings.host() + ":"
                    + node.metricsPort() + "/metrics");
            out.println("starting " + coordinators + " coordinator, " + options.psNodes() + " parameter-server and "
                    + options.trainers() + " trainer JVMs; logs in " + runDir.toAbsolutePath());
            List<String> metrics = new java.util.concurrent.CopyOnWriteArrayList<>();
            metrics.add("launcher http://" + nodeSettings.host() + ":" + node.metricsPort() + "/metrics");
            List<String> endpoints = new ArrayList<>(List.of("http://" + nodeSettings.host() + ":" + node.metricsPort()
                    + "/metrics"));
            List<ChildJvms.Child> trainers = new java.util.concurrent.CopyOnWriteArrayList<>();
            ChildStarter starter = new ChildStarter(children, seed, common, runDir, nodeSettings.host(), metrics, certs);
            for (int i = 0; i < coordinators + options.psNodes() + options.trainers(); i++) {
                // the coordinators first: the oldest coordinator-role member hosts the singleton
                String name = i < coordinators ? ChildJvms.COORDINATOR_PREFIX + (i + 1) : i < coordinators + options.psNodes()
                        ? "ps-" + (i - coordinators + 1) : "trainer-" + (i - coordinators - options.psNodes() + 1);
                ChildJvms.Child c = starter.start(name);
                if (roleOf(name).equals("trainer")) {
                    trainers.add(c);
                }
                // One JVM at a time, each once it is Up: a starting JVM's JIT, TLS handshakes and data loading
                // take whole cores, and on a 2-core machine six starting at once (or even 5 s apart) starved
                // the others' heartbeats until the split-brain resolver downed everyone (docs/security.md).
                awaitMembers(node, i + 2, c);
            }
            options.hooks().started(children, runDir, name -> {
                ChildJvms.Child c = starter.start(name);
                if (roleOf(name).equals("trainer")) {
                    trainers.add(c);
                }
            });
            RunResult r = await(result, trainers, runDir);
            listener.bar.finishLine();
            out.printf(Locale.ROOT, "result: final test accuracy %.2f%% after %d epochs (%d steps) across %d trainer JVMs, "
                            + "%,.0f samples/s, %.1f s%n", r.accuracy() * 100, r.epochs(), r.steps(), options.trainers(),
                    r.samplesPerSecond(), r.seconds());
            if (!Double.isNaN(listener.lastValidationLoss)) {
                Path checkpoint = runDir.resolve("history").resolve("checkpoints")
                        .resolve("step-" + listener.lastValidationStep + ".safetensors");
                out.printf(Locale.ROOT, "result: validation loss %.4f nats/char at step %d (the accuracy above is the share"
                        + " of next characters predicted); try: tributary generate --checkpoint %s%n",
                        listener.lastValidationLoss, listener.lastValidationStep, checkpoint.toAbsolutePath());
            }
            out.printf(Locale.ROOT, "samples: %,d to train over %d epoch(s), %,d trained once, %d never, %d twice%n",
                    r.samplesAudit().expected(), r.samplesAudit().epochs(), r.samplesAudit().trained(),
                    r.samplesAudit().missed(), r.samplesAudit().twice());
            for (String m : metrics.subList(1, metrics.size())) {
                endpoints.add(m.substring(m.indexOf("http://"), m.indexOf("/metrics") + "/metrics".length()));
            }
            dataPlaneBytes = DataPlaneTraffic.bytesSent(endpoints);
            long trained = r.samplesAudit().trained();
            if (dataPlaneBytes >= 0) {
                out.printf(Locale.ROOT, "data plane: %,d bytes sent by all nodes, %,.0f per trained sample%n",
                        dataPlaneBytes, trained > 0 ? (double) dataPlaneBytes / trained : Double.NaN);
            }
            out.println("metrics endpoints (while the cluster ran):");
            metrics.forEach(m -> out.println("  " + m));
            out.println("logs: " + runDir.toAbsolutePath());
            out.println("model history and checkpoints: " + runDir.resolve("history").toAbsolutePath()
                    + " (tributary history show|verify)");
            out.println("stopping " + children.children().size() + " JVMs");
            return r;
        } finally {
            node.close();
        }
    }

    /** The longest the demo waits for a started JVM to become a member before it starts the next one. */
    private static final long MEMBER_WAIT_SECONDS = 60;

    /** Waits until {@code count} members are Up (or the child exits, or {@link #MEMBER_WAIT_SECONDS} pass). */
    private static void awaitMembers(TributaryNode node, int count, ChildJvms.Child child) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MEMBER_WAIT_SECONDS);
        while (System.nanoTime() < deadline && child.process().isAlive()) {
            int up = 0;
            for (org.apache.pekko.cluster.Member m : org.apache.pekko.cluster.typed.Cluster.get(node.system()).state().getMembers()) {
                if (m.status().equals(org.apache.pekko.cluster.MemberStatus.up())) {
                    up++;
                }
            }
            if (up >= count) {
                return;
            }
            Thread.sleep(100);
        }
    }

    private RunResult await(CompletableFuture<RunResult> result,
                                                List<ChildJvms.Child> trainers, Path runDir)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.timeout().toSeconds());
        while (System.nanoTime() < deadline) {
            try {
                return result.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                if (trainers.stream().noneMatch(c -> c.process().isAlive())) {
                    throw new IllegalStateException("every trainer JVM has exited before the run finished; see the logs in "
                            + runDir.toAbsolutePath());
                }
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("the run failed: " + e.getCause().getMessage(), e.getCause());
            }
        }
        throw new IllegalStateException("the run did not finish within " + options.timeout().toSeconds()
                + " s; see the logs in " + runDir.toAbsolutePath());
    }

    /** Starts the node JVMs of this cluster: same seed, settings and log folder. */
    private final class ChildStarter {
        private final ChildJvms children;
        private final String seed;
        private final Map<String, String> common;
        private final Path runDir;
        private final String host;
        private final List<String> metrics;
        private final DemoCertificates certs;

        ChildStarter(ChildJvms children, String seed, Map<String, String> common, Path runDir, String host,
                     List<String> metrics, DemoCertificates certs) {
            this.certs = certs;
            this.children = children;
            this.seed = seed;
            this.common = common;
            this.runDir = runDir;
            this.host = host;
            this.metrics = metrics;
        }

        ChildJvms.Child start(String name) {
            int metricsPort = freePort();
            String role = roleOf(name);
            boolean ps = role.equals("ps");
            List<String> args = new ArrayList<>(List.of("node", "--roles", role, "--port", "0",
                    "--join", seed, "--metrics-port", Integer.toString(metricsPort)));
            if (options.configFile() != null) {
                args.add("--config");
                args.add(options.configFile().toString());
            }
            if (options.hooks().controlFiles()) {
                args.add("--set");
                args.add("tributary.chaos.control-file=" + runDir.resolve("control").resolve(name).toAbsolutePath());
            }
            if (certs != null) {
                args.add("--tls-dir");
                args.add(certs.forNode(name, role).toString());
            }
            Map<String, String> sets = new LinkedHashMap<>(common);
            if (role.equals("coordinator")) {
                sets.put("tributary.cluster.run-dir", runDir.toAbsolutePath().toString());
            }
            if (!ps && name.startsWith("trainer-")) {
                sets.putAll(options.trainerOverrides().getOrDefault(Integer.parseInt(name.substring(8)), Map.of()));
            }
            for (Map.Entry<String, String> e : sets.entrySet()) {
                args.add("--set");
                args.add(e.getKey() + "=" + e.getValue());
            }
            List<String> jvm = new ArrayList<>(List.of("-Xmx1g", "-XX:+UseParallelGC", "-Dtributary.log.level=INFO"));
            jvm.addAll(options.childJvmOptions().getOrDefault(name, List.of()));
            try {
                ChildJvms.Child c = children.start(name, jvm, args, runDir.resolve(name + ".log"));
                metrics.add(name + " http://" + host + ":" + metricsPort + "/metrics (pid " + c.pid() + ")");
                return c;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the " + name + " JVM: " + e.getMessage(), e);
            }
        }
    }

    /** A child JVM's role by its name: {@code coordinator-N}, {@code ps-N}, else a trainer. */
    static String roleOf(String name) {
        return name.startsWith(ChildJvms.COORDINATOR_PREFIX) ? "coordinator" : name.startsWith("ps-") ? "ps" : "trainer";
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free TCP port on this host", e);
        }
    }

    /** Draws the run's progress bar and completes the result. */
    private final class Listener implements RunListener {
        final ProgressBar bar = ProgressBar.on(out);
        private int stepsPerEpoch;
        private final CompletableFuture<RunResult> result;

        Listener(CompletableFuture<RunResult> result) {
            this.result = result;
        }

        private final RunListener observer = options.hooks().observer();

        /** An observer's failure is logged; it must not fail the coordinator that calls this listener. */
        private void observe(Runnable call) {
            try {
                call.run();
            } catch (RuntimeException e) {
                LOG.error("the run's observer failed; the run goes on: {}", e.toString(), e);
            }
        }

        @Override
        public void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch, String policy) {
            this.stepsPerEpoch = stepsPerEpoch;
            if (observer != null) {
                observe(() -> observer.started(trainers, shards, totalSteps, stepsPerEpoch, localBatch, policy));
            }
            out.printf(Locale.ROOT, "training: %d trainers x batch %d, %d shards, %s policy, %d steps (%d per epoch)%n",
                    trainers, localBatch, shards, policy, totalSteps, stepsPerEpoch);
        }

        @Override
        public void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers, double loss,
                             double lastAccuracy) {
            if (observer != null) {
                observe(() -> observer.progress(step, totalSteps, samplesPerSecond, liveTrainers, loss, lastAccuracy));
            }
            bar.update(String.format(Locale.ROOT, "step %d/%d", step, totalSteps), (double) step / totalSteps,
                    String.format(Locale.ROOT, "%,.0f samples/s  trainers %d  loss %.4f  accuracy %s", samplesPerSecond,
                            liveTrainers, loss, Double.isNaN(lastAccuracy) ? "-" : String.format(Locale.ROOT, "%.2f%%",
                                    lastAccuracy * 100)));
        }

        /** The last validation loss (sequence models), NaN before any. */
        private volatile double lastValidationLoss = Double.NaN;
        private volatile long lastValidationStep = -1;

        @Override
        public void validationLoss(long step, double loss) {
            lastValidationLoss = loss;
            lastValidationStep = step;
            bar.finishLine();
            out.printf(Locale.ROOT, "step %d: validation loss %.4f nats/char%n", step, loss);
        }

        @Override
        public void evaluated(int epoch, long step, double accuracy) {
            if (observer != null) {
                observe(() -> observer.evaluated(epoch, step, accuracy));
            }
            bar.finishLine();
            out.printf(Locale.ROOT, "%s: test accuracy %.2f%%%n", stepsPerEpoch > 0 && step % stepsPerEpoch == 0
                    ? "epoch " + epoch + " (step " + step + ")" : "step " + step, accuracy * 100);
        }

        @Override
        public void trainerJoined(int trainer, int replaced, long step) {
            if (observer != null) {
                observe(() -> observer.trainerJoined(trainer, replaced, step));
            }
            bar.finishLine();
            out.printf(Locale.ROOT, "trainer %d joined at step %d (its work plans: above)%n", trainer, step);
        }

        @Override
        public void workPlanned(int plan, long from, String why, Map<Integer, Integer> batches) {
            if (observer != null) {
                observe(() -> observer.workPlanned(plan, from, why, batches));
            }
            if (why.startsWith("epoch ") || why.equals("the start")) {
                return; // routine
            }
            bar.finishLine();
            out.printf(Locale.ROOT, "work plan %d from step %d (%s): batch by trainer %s%n", plan, from, why, batches);
        }

        @Override
        public void resumed(long step, long totalSteps) {
            if (observer != null) {
                observe(() -> observer.resumed(step, totalSteps));
            }
            bar.finishLine();
            out.printf(Locale.ROOT, "resuming at step %d of %d from the checkpoint%n", step, totalSteps);
        }

        @Override
        public void psFailover(String node, long step, long toStep) {
            if (observer != null) {
                observe(() -> observer.psFailover(node, step, toStep));
            }
            bar.finishLine();
            out.printf(Locale.ROOT, "parameter-server node %s left at step %d: every shard rolls back to the checkpoint of "
                    + "step %d and the trainers go on from there%n", node, step, toStep);
        }

        @Override
        public void replicasPromoted(String node, long step, double seconds) {
            if (observer != null) {
                observe(() -> observer.replicasPromoted(node, step, seconds));
            }
            bar.finishLine();
            out.printf(Locale.ROOT, "parameter-server node %s left at step %d: the replicas of its shards took over "
                    + "(%.2f s after its removal), no step done again%n", node, step, seconds);
        }

        @Override
        public void coordinatorTookOver(String node, long step, long storedStep, double seconds) {
            if (observer != null) {
                observe(() -> observer.coordinatorTookOver(node, step, storedStep, seconds));
            }
            bar.finishLine();
            out.printf(Locale.ROOT, "the coordinator moved to %s: it took the run over at step %d from the state stored at"
                    + " step %d and the shards' commits since (%.2f s), nothing lost or done again%n", node, step,
                    storedStep, seconds);
        }

        @Override
        public void shardMoved(int shard, String from, String to, long version, double seconds) {
            if (observer != null) {
                observe(() -> observer.shardMoved(shard, from, to, version, seconds));
            }
            bar.finishLine();
            out.printf(Locale.ROOT, "shard %d moved to another parameter-server node at version %d with its parameters and "
                    + "optimizer state (%.2f s)%n", shard, version, seconds);
        }

        @Override
        public void failed(String reason) {
            if (observer != null) {
                observe(() -> observer.failed(reason));
            }
            result.completeExceptionally(new IllegalStateException(reason));
        }

        @Override
        public void trainerQuarantined(int trainer, String node, String reason) {
            if (observer != null) {
                observe(() -> observer.trainerQuarantined(trainer, node, reason));
            }
            bar.finishLine();
            out.printf(Locale.ROOT, "trainer %d (%s) QUARANTINED: %s; its node is downed%n", trainer, node, reason);
        }

        @Override
        public void finished(RunResult r) {
            if (observer != null) {
                observe(() -> observer.finished(r));
            }
            result.complete(r);
        }
    }
}
