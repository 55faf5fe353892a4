package io.tributary.bench;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.aggregate.AggregationRule;
import io.tributary.ps.aggregate.BiasScreen;
import io.tributary.ps.aggregate.AggregationSettings;
import io.tributary.ps.aggregate.AggregationSettings.Rule;
import io.tributary.ps.aggregate.ContributionCheck;
import io.tributary.ps.aggregate.OutlierScreen;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Prints, from one run on this machine, what each aggregation rule of a parameter shard costs per
 * step for T = 5 trainers, at the size of one shard of the MNIST MLP (134,000 floats) and at 2^20
 * floats, next to the mean measured in the same run; plus the contribution check of the T slots and
 * the outlier and bias screens robust rules add, and the shard's former fill/axpy/scale average on CpuBackend. Every measurement is bounded in time.
 *
 * <p>Run: {@code scripts/bench-aggregation.sh [SECONDS_PER_MEASUREMENT]}.
 */
public final class AggregationTable {

    private static final int TRAINERS = 5;
    private static final int[] LENGTHS = {134_000, 1 << 20};
    private static final long SEED = 42;

    private AggregationTable() {
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        AggregationSettings defaults = AggregationSettings.trustedMean();
        System.out.println("# Tributary aggregation table: T = " + TRAINERS + " trainers, "
                + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version") + ", one thread, median of repeated timings, about " + seconds
                + " s each");
        System.out.printf(Locale.ROOT, "# settings: trim-fraction %.2f, clip-tau %s, clip-iterations %d, clip-momentum %.2f,"
                        + " outlier-factor %.1f, bias-threshold %.2f%n", defaults.trimFraction(),
                defaults.autoTau() ? "auto" : String.format(Locale.ROOT, "%.3f", defaults.clipTau()),
                defaults.clipIterations(), defaults.clipMomentum(), defaults.outlierFactor(), defaults.biasThreshold());
        System.out.println();
        System.out.println("| n | rule | ms per aggregation | x mean | input GB/s |");
        System.out.println("|---|---|---|---|---|");
        for (int n : LENGTHS) {
            float[][] slots = randomSlots(n);
            int[] which = new int[TRAINERS];
            for (int t = 0; t < TRAINERS; t++) {
                which[t] = t;
            }
            float[] out = new float[n];
            double inputBytes = 4.0 * TRAINERS * n;

            AggregationRule mean = AggregationRule.create(defaults.withRule(Rule.MEAN), TRAINERS, n);
            double meanSeconds = medianSeconds(() -> mean.aggregate(slots, which, TRAINERS, n, out), seconds);
            row(n, "mean", meanSeconds, meanSeconds, inputBytes);
            for (Rule r : new Rule[] {Rule.TRIMMED_MEAN, Rule.MEDIAN, Rule.CENTERED_CLIPPING}) {
                AggregationRule rule = AggregationRule.create(defaults.withRule(r), TRAINERS, n);
                double s = medianSeconds(() -> rule.aggregate(slots, which, TRAINERS, n, out), seconds);
                row(n, r.configName(), s, meanSeconds, inputBytes);
            }
            ContributionCheck check = new ContributionCheck(1e9);
            double checkSeconds = medianSeconds(() -> {
                for (int t = 0; t < TRAINERS; t++) {
                    check.check(slots[t], n);
                }
            }, seconds);
            row(n, "contribution check, " + TRAINERS + " slots", checkSeconds, meanSeconds, inputBytes);
            OutlierScreen screen = new OutlierScreen(defaults.outlierFactor(), TRAINERS);
            boolean[] outlier = new boolean[TRAINERS];
            double screenSeconds = medianSeconds(() -> screen.screen(slots, which, TRAINERS, n, out, outlier), seconds);
            row(n, "outlier screen (robust rules), " + TRAINERS + " slots", screenSeconds, meanSeconds, inputBytes);
            BiasScreen bias = new BiasScreen(defaults.biasThreshold(), defaults.biasWarmup(), TRAINERS, n);
            double biasSeconds = medianSeconds(() -> {
                for (int t = 0; t < TRAINERS; t++) {
                    bias.observe(t, slots[t], out);
                }
            }, seconds);
            row(n, "bias screen (robust rules), " + TRAINERS + " slots", biasSeconds, meanSeconds, inputBytes);
            try (Backend backend = CpuBackend.create()) {
                Tensor sum = CpuBackend.wrap(out);
                Tensor[] tensors = new Tensor[TRAINERS];
                for (int t = 0; t < TRAINERS; t++) {
                    tensors[t] = CpuBackend.wrap(slots[t]);
                }
                double old = medianSeconds(() -> {
                    backend.fill(sum, 0f);
                    for (Tensor x : tensors) {
                        backend.axpy(1f, x, sum);
                    }
                    backend.scale(1f / TRAINERS, sum);
                }, seconds);
                row(n, "former fill/axpy/scale (CpuBackend)", old, meanSeconds, inputBytes);
            }
        }
        System.out.println();
        System.out.println("(x mean: time over the mean rule's time at the same n in this run; input GB/s: the T slots'"
                + " bytes over the time)");
    }

    private static void row(int n, String name, double seconds, double meanSeconds, double inputBytes) {
        System.out.printf(Locale.ROOT, "| %,d | %s | %.3f | %.2f | %.1f |%n", n, name, seconds * 1e3,
                seconds / meanSeconds, inputBytes / seconds / 1e9);
    }

    private static float[][] randomSlots(int n) {
        SplittableRandom r = new SplittableRandom(SEED);
        float[][] slots = new float[TRAINERS][n];
        for (float[] slot : slots) {
            for (int i = 0; i < n; i++) {
                slot[i] = (float) ((r.nextDouble() * 2 - 1) * 0.01);
            }
        }
        return slots;
    }

    /** Median of repeated timings of {@code work}, bounded to about {@code seconds} after a warm-up of half that. */
    private static double medianSeconds(Runnable work, double seconds) {
        long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
        int warm = 0;
        while ((System.nanoTime() < warmEnd || warm < 3) && warm < 10_000) {
            work.run();
            warm++;
        }
        List<Double> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while ((System.nanoTime() < end || times.size() < 5) && times.size() < 100_000) {
            long t0 = System.nanoTime();
            work.run();
            times.add((System.nanoTime() - t0) / 1e9);
        }
        double[] sorted = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }
}
