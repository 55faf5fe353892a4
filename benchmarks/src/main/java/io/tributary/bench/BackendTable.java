package io.tributary.bench;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.kernels.cpu.NativeBlas;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.SyntheticDataset;
import io.tributary.trainer.local.LocalTraining;
import io.tributary.trainer.local.TrainSettings;
import io.tributary.trainer.model.Activation;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.function.DoubleSupplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Prints, from one run on this machine, the CPU backend's figures next to the limits measured in
 * the same run: the FMA peak of the cores (Vector API, registers only), SGEMM GFLOP/s through the
 * native-BLAS path and the plain-Java path, and the MLP training step's samples/s.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar io.tributary.bench.BackendTable}
 * (or {@code scripts/bench-backend.sh}). Every measurement is bounded in time.
 */
public final class BackendTable {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private BackendTable() {
    }

    public static void main(String[] args) throws InterruptedException {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        boolean haveNative = NativeBlas.instance() != null;
        System.out.println("# Tributary CPU backend table: " + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", Vector API "
                + S.vectorBitSize() + "-bit, OPENBLAS_NUM_THREADS=" + System.getenv("OPENBLAS_NUM_THREADS"));
        if (!haveNative) {
            System.out.println("# " + NativeBlas.problem());
        }
        double peak1 = fmaPeak(1, seconds);
        double peakAll = fmaPeak(Runtime.getRuntime().availableProcessors(), seconds);
        System.out.printf(Locale.ROOT, "%nFP32 FMA peak (Vector API, registers only): %.1f GFLOP/s on 1 thread, %.1f on %d%n",
                peak1, peakAll, Runtime.getRuntime().availableProcessors());

        System.out.printf(Locale.ROOT, "%n| n | native GFLOP/s | native / peak(all cores) | java GFLOP/s | java / peak(1 thread) | java / native |%n");
        System.out.println("|---|---|---|---|---|---|");
        for (int n : new int[] {256, 512, 1024, 2048}) {
            double nat = haveNative ? gemmGflops(CpuBackend.nativePath(), n, seconds) : Double.NaN;
            double java = gemmGflops(CpuBackend.javaPath(), n, seconds);
            System.out.printf(Locale.ROOT, "| %d | %s | %s | %.1f | %.2f | %s |%n", n, fmt(nat, "%.1f"),
                    fmt(nat / peakAll, "%.2f"), java, java / peak1, fmt(java / nat, "%.2f"));
        }

        System.out.printf(Locale.ROOT, "%n| MLP 784-512-256-10, batch 128, Adam | samples/s | step GFLOP/s | step / GEMM-bound |%n");
        System.out.println("|---|---|---|---|");
        double flopsPerSample = 6.0 * (784 * 512 + 512 * 256 + 256 * 10);
        double natGemm512 = haveNative ? gemmGflops(CpuBackend.nativePath(), 512, seconds) : Double.NaN;
        double javaGemm512 = gemmGflops(CpuBackend.javaPath(), 512, seconds);
        if (haveNative) {
            double sps = trainStepSamplesPerSecond(CpuBackend.nativePath(), seconds);
            System.out.printf(Locale.ROOT, "| native BLAS | %,.0f | %.1f | %.2f |%n", sps, sps * flopsPerSample / 1e9,
                    sps * flopsPerSample / 1e9 / natGemm512);
        }
        double spsJava = trainStepSamplesPerSecond(CpuBackend.javaPath(), seconds);
        System.out.printf(Locale.ROOT, "| plain Java | %,.0f | %.1f | %.2f |%n", spsJava, spsJava * flopsPerSample / 1e9,
                spsJava * flopsPerSample / 1e9 / javaGemm512);
        System.out.println("\n(step / GEMM-bound: the step's useful GFLOP/s over the same path's n=512 SGEMM GFLOP/s in this run)");
    }

    private static String fmt(double v, String f) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, f, v);
    }

    /** Median of repeated timings of {@code work}, bounded to about {@code seconds} (plus warm-up). */
    private static double medianSeconds(Runnable work, double seconds) {
        long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
        int warm = 0;
        while (System.nanoTime() < warmEnd && warm < 10_000) {
            work.run();
            warm++;
        }
        List<Double> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while ((System.nanoTime() < end || times.size() < 3) && times.size() < 100_000) {
            long t0 = System.nanoTime();
            work.run();
            times.add((System.nanoTime() - t0) / 1e9);
        }
        double[] sorted = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }

    static double gemmGflops(Backend backend, int n, double seconds) {
        try (backend) {
            Tensor a = random(backend, n * n, 1);
            Tensor b = random(backend, n * n, 2);
            Tensor c = backend.allocate(n * n);
            double t = medianSeconds(() -> {
                backend.gemm(false, false, n, n, n, 1f, a, b, 0f, c);
                backend.synchronize();
            }, seconds);
            return 2.0 * n * n * n / t / 1e9;
        }
    }

    static double trainStepSamplesPerSecond(Backend backend, double seconds) {
        try (backend) {
            int batch = 128;
            Dataset data = SyntheticDataset.generate(batch, 784, 10, 1);
            Mlp mlp = new Mlp(ModelSpec.of(Activation.Function.RELU, 784, 512, 256, 10), backend, batch);
            mlp.initialize(1);
            LocalTraining t = new LocalTraining(mlp, OptimizerSettings.adam(1e-3f), data, data,
                    new TrainSettings(1, batch, 1));
            double s = medianSeconds(() -> {
                t.step(data.featureValues(), data.labels(), batch);
                backend.synchronize();
            }, seconds);
            return batch / s;
        }
    }

    private static Tensor random(Backend backend, int len, long seed) {
        float[] host = new float[len];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < len; i++) {
            host[i] = (float) (r.nextDouble() * 2 - 1);
        }
        Tensor t = backend.allocate(len);
        backend.upload(host, 0, t);
        return t;
    }

    /** GFLOP/s of independent register-resident FMA chains on {@code threads} threads at once. */
    static double fmaPeak(int threads, double seconds) throws InterruptedException {
        double[] results = new double[threads];
        CountDownLatch start = new CountDownLatch(1);
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                results[id] = fmaLoopGflops(seconds);
            }, "fma-peak-" + t);
            workers[t].start();
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        return Arrays.stream(results).sum();
    }

    private static double fmaLoopGflops(double seconds) {
        DoubleSupplier round = () -> fmaRound(2_000_000);
        round.getAsDouble(); // warm-up and compile
        round.getAsDouble();
        long t0 = System.nanoTime();
        long rounds = 0;
        double sink = 0;
        while (System.nanoTime() - t0 < seconds * 1e9 && rounds < 1_000_000) {
            sink += round.getAsDouble();
            rounds++;
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        if (sink == 42.4242) {
            System.out.print("");
        }
        // 12 independent chains (enough to cover FMA latency on two ports) × lanes × 2 flops × iterations
        return rounds * 2_000_000.0 * 12 * S.length() * 2 / elapsed / 1e9;
    }

    private static double fmaRound(int iterations) {
        FloatVector a = FloatVector.broadcast(S, 0.999999f);
        FloatVector b = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, 1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        FloatVector c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < iterations; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
