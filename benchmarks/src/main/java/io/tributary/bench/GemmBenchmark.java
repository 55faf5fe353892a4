package io.tributary.bench;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Square SGEMM through the backend, native BLAS path and plain-Java path. GFLOP/s = 2n³ / time.
 * Run: {@code java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar GemmBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBenchmark {

    @Param({"256", "512", "1024", "2048"})
    public int n;

    @Param({"native", "java"})
    public String path;

    private Backend backend;
    private Tensor a;
    private Tensor b;
    private Tensor c;

    @Setup(Level.Trial)
    public void setUp() {
        backend = path.equals("native") ? CpuBackend.nativePath() : CpuBackend.javaPath();
        a = random(n * n, 1);
        b = random(n * n, 2);
        c = backend.allocate(n * n);
    }

    private Tensor random(int len, long seed) {
        float[] host = new float[len];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < len; i++) {
            host[i] = (float) (r.nextDouble() * 2 - 1);
        }
        Tensor t = backend.allocate(len);
        backend.upload(host, 0, t);
        return t;
    }

    @Benchmark
    public Tensor gemm() {
        backend.gemm(false, false, n, n, n, 1f, a, b, 0f, c);
        backend.synchronize();
        return c;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }
}
