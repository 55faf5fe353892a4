package io.tributary.bench;

import io.tributary.coordinator.RunListener;
import io.tributary.coordinator.RunResult;
import io.tributary.demo.DemoCommand;
import io.tributary.trainer.data.MnistIdx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The pooling benchmark: what pooling pays. One process ({@code train --local}, 2 BLAS threads, in a
 * fresh JVM of its own)
 * against the local cluster (this JVM as coordinator, one parameter-server JVM and two trainer JVMs
 * on 127.0.0.1, one BLAS thread each), same model (MLP 784-512-256-10), same global batch (128),
 * same data, measured one after the other in this run, {@code repeats} times:
 * <ul>
 *   <li>R1 {@code sync/local}: samples/s of a sync float32 cluster over the process, one epoch;</li>
 *   <li>R2 {@code local-sgd/local}: the same with local SGD (float32 frames, H = inner steps), one epoch;</li>
 *   <li>R3 {@code bytes-saved}: data-plane bytes per trained sample of sync float32 over local SGD with
 *       int8 frames, both 5 epochs, with their final test accuracies beside them;</li>
 *   <li>R4 {@code capped-local-sgd/uncapped}: local SGD with int8 frames, seconds from the run's start to
 *       97% test accuracy with every node's data plane capped at 100 Mbit/s over the same uncapped.</li>
 * </ul>
 * The last line printed is {@code sync/local=R1 local-sgd/local=R2 bytes-saved=R3 capped-local-sgd/uncapped=R4},
 * each the mean over the repeats (the table gives every repeat).
 *
 * <p>Run: {@code scripts/bench-cluster.sh [REPEATS]} (builds, then runs this class from the benchmarks jar).
 */
public final class PoolingTable {

    /** 100 Mbit/s in bytes per second. */
    static final long CAP_BYTES_PER_SECOND = 12_500_000L;
    static final double TARGET_ACCURACY = 0.97;

    private PoolingTable() {
    }

    /** One cluster run's figures. */
    record Cluster(RunResult result, long bytes, double secondsToTarget) {
        double bytesPerSample() {
            long trained = result.samplesAudit().trained();
            return bytes < 0 || trained <= 0 ? Double.NaN : (double) bytes / trained;
        }
    }

    /** One repeat's figures. */
    record Repeat(double local, Cluster sync1, Cluster localSgd1, Cluster sync5, Cluster int8Five, Cluster capped) {
        double r1() {
            return sync1.result().trainSamplesPerSecond() / local;
        }

        double r2() {
            return localSgd1.result().trainSamplesPerSecond() / local;
        }

        double r3() {
            return sync5.bytesPerSample() / int8Five.bytesPerSample();
        }

        double r4() {
            return capped.secondsToTarget() / int8Five.secondsToTarget();
        }
    }

    /** The argument that makes this program measure one process's epoch only and print its samples/s. */
    static final String LOCAL_ONLY = "--one-process-epoch";

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals(LOCAL_ONLY)) {
            boolean mnist = Files.isRegularFile(MnistIdx.defaultDirectory().resolve(MnistIdx.TEST_LABELS));
            System.out.println(localSamplesPerSecond(mnist, 1));
            return;
        }
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        }
        boolean mnist = Files.isRegularFile(MnistIdx.defaultDirectory().resolve(MnistIdx.TEST_LABELS));
        int innerSteps = 52;
        System.out.println("# Tributary cluster table: " + Runtime.getRuntime().availableProcessors() + " cores, "
                + (mnist ? "MNIST" : "synthetic data (MNIST not fetched)") + ", global batch 128, 1 ps + 2 trainers, "
                + "local-sgd H = " + innerSteps + ", " + repeats + " repeat(s)");
        List<Repeat> all = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            double local = localInFreshJvm();
            System.out.printf(Locale.ROOT, "# repeat %d: one process, 1 epoch: %,.0f samples/s%n", r + 1, local);
            Cluster sync1 = cluster("sync, float32", mnist, 1, Map.of());
            Map<String, String> localSgd = Map.of("tributary.consistency.policy", "local-sgd",
                    "tributary.consistency.inner-steps", Integer.toString(innerSteps));
            Cluster localSgd1 = cluster("local-sgd, float32", mnist, 1, localSgd);
            Cluster sync5 = cluster("sync, float32", mnist, 5, Map.of());
            Map<String, String> int8 = new HashMap<>(localSgd);
            int8.put("tributary.data-plane.gradient-encoding", "int8");
            int8.put("tributary.data-plane.parameter-encoding", "int8");
            int8.put("tributary.cluster.eval-every-steps", "3");
            Cluster int8Five = cluster("local-sgd, int8", mnist, 5, int8);
            Map<String, String> capped = new HashMap<>(int8);
            capped.put("tributary.data-plane.bandwidth-cap", Long.toString(CAP_BYTES_PER_SECOND));
            Cluster cappedRun = cluster("local-sgd, int8, 100 Mbit/s cap", mnist, 3, capped);
            Repeat rep = new Repeat(local, sync1, localSgd1, sync5, int8Five, cappedRun);
            all.add(rep);
            print(r + 1, rep);
        }
        System.out.println();
        System.out.println("| ratio | goal | " + String.join(" | ", repeatHeaders(repeats)) + " | mean | spread (max - min) |");
        System.out.println("|---|---|" + "---|".repeat(repeats) + "---|---|");
        row("R1 sync/local", ">= 0.5", all, Repeat::r1);
        row("R2 local-sgd/local", ">= 0.9", all, Repeat::r2);
        row("R3 bytes-saved", ">= 100", all, Repeat::r3);
        row("R4 capped-local-sgd/uncapped", "<= 1.3", all, Repeat::r4);
        System.out.println();
        System.out.printf(Locale.ROOT, "sync/local=%.2f local-sgd/local=%.2f bytes-saved=%.0f capped-local-sgd/uncapped=%.2f%n",
                mean(all, Repeat::r1), mean(all, Repeat::r2), mean(all, Repeat::r3), mean(all, Repeat::r4));
    }

    private static List<String> repeatHeaders(int repeats) {
        List<String> h = new ArrayList<>();
        for (int i = 1; i <= repeats; i++) {
            h.add("repeat " + i);
        }
        return h;
    }

    private static void row(String name, String goal, List<Repeat> all, java.util.function.ToDoubleFunction<Repeat> f) {
        StringBuilder b = new StringBuilder("| " + name + " | " + goal + " | ");
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Repeat r : all) {
            double v = f.applyAsDouble(r);
            b.append(String.format(Locale.ROOT, "%.2f | ", v));
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        b.append(String.format(Locale.ROOT, "%.2f | %.2f |", mean(all, f), max - min));
        System.out.println(b);
    }

    private static double mean(List<Repeat> all, java.util.function.ToDoubleFunction<Repeat> f) {
        return all.stream().mapToDouble(f).average().orElse(Double.NaN);
    }

    private static void print(int repeat, Repeat r) {
        System.out.println();
        System.out.println("## repeat " + repeat);
        System.out.println("| run | epochs | samples/s (training) | / local | test accuracy | data-plane bytes per sample | s to 97% |");
        System.out.println("|---|---|---|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| one process (2 BLAS threads) | 1 | %,.0f | 1.00 | - | 0 | - |%n", r.local());
        line("sync, float32", r.sync1(), r.local());
        line("local-sgd, float32", r.localSgd1(), r.local());
        line("sync, float32", r.sync5(), r.local());
        line("local-sgd, int8", r.int8Five(), r.local());
        line("local-sgd, int8, 100 Mbit/s cap", r.capped(), r.local());
    }

    private static void line(String name, Cluster c, double local) {
        RunResult res = c.result();
        System.out.printf(Locale.ROOT, "| %s | %d | %,.0f | %.2f | %.2f%% | %,.0f | %s |%n", name, res.epochs(),
                res.trainSamplesPerSecond(), res.trainSamplesPerSecond() / local, res.accuracy() * 100, c.bytesPerSample(),
                Double.isNaN(c.secondsToTarget()) ? "-" : String.format(Locale.ROOT, "%.1f", c.secondsToTarget()));
    }

    /** A local cluster run of 1 ps and 2 trainer JVMs with {@code extra} settings. */
    private static Cluster cluster(String name, boolean mnist, int epochs, Map<String, String> extra)
            throws Exception {
        Path runs = Files.createTempDirectory("tributary-bench-runs");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, String> overrides = new HashMap<>(Map.of("tributary.train.epochs", Integer.toString(epochs),
                "tributary.train.batch-size", "128", "tributary.model.layers", "[784,512,256,10]"));
        if (!mnist) {
            overrides.put("tributary.data.set", "synthetic");
        }
        overrides.putAll(extra);
        TargetWatch watch = new TargetWatch();
        DemoCommand demo = new DemoCommand(new DemoCommand.Options(2, 1, null, overrides, runs, Duration.ofMinutes(20),
                Map.of(), "bench", Map.of(), watch), new PrintStream(log, true, StandardCharsets.UTF_8));
        RunResult r = demo.run();
        Cluster c = new Cluster(r, demo.dataPlaneBytes(), watch.secondsToTarget);
        System.out.printf(Locale.ROOT, "# %s, %d epoch(s): %,.0f samples/s, test accuracy %.2f%%, %,.0f data-plane bytes "
                        + "per sample, %s s to 97%%; logs in %s%n", name, epochs, r.trainSamplesPerSecond(),
                r.accuracy() * 100, c.bytesPerSample(), Double.isNaN(c.secondsToTarget()) ? "-"
                        : String.format(Locale.ROOT, "%.1f", c.secondsToTarget()), runs);
        return c;
    }

    /** Notes when the run started and when an evaluation first reached {@link #TARGET_ACCURACY}. */
    private static final class TargetWatch implements DemoCommand.Hooks, RunListener {
        private volatile long startNanos;
        private volatile double secondsToTarget = Double.NaN;

        @Override
        public RunListener observer() {
            return this;
        }

        @Override
        public void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch, String policy) {
            startNanos = System.nanoTime();
        }

        @Override
        public void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers, double loss,
                             double lastAccuracy) {
        }

        @Override
        public void evaluated(int epoch, long step, double accuracy) {
            if (accuracy >= TARGET_ACCURACY && Double.isNaN(secondsToTarget)) {
                secondsToTarget = (System.nanoTime() - startNanos) / 1e9;
            }
        }

        @Override
        public void finished(RunResult result) {
        }
    }

    /**
     * One process's epoch in a JVM of its own, started like the cluster's (same Java, options and class
     * path), so that it starts as cold as they do: in this JVM the second repeat's epoch ran warm, at
     * 58,048 samples/s against 40,911 cold.
     */
    private static double localInFreshJvm() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(PoolingTable.class.getName());
        cmd.add(LOCAL_ONLY);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("the one-process epoch failed (exit " + (p.isAlive() ? "none" : p.exitValue())
                    + "): " + out);
        }
        String[] lines = out.split("\n");
        return Double.parseDouble(lines[lines.length - 1].trim());
    }

    private static double localSamplesPerSecond(boolean mnist, int epochs) {
        return ClusterTable.localSamplesPerSecond(mnist, epochs);
    }
}
