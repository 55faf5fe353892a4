package io.tributary.bench;

import io.tributary.kernels.Backend;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.SyntheticDataset;
import io.tributary.trainer.local.LocalTraining;
import io.tributary.trainer.local.TrainSettings;
import io.tributary.trainer.model.Activation;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
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
 * One training step (forward, loss, backward, Adam) of the MLP 784-512-256-10 at batch 128:
 * samples/s = 128 / time. Run with {@code -prof gc} to see that a step allocates nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainStepBenchmark {

    static final int BATCH = 128;

    @Param({"native", "java"})
    public String path;

    private Backend backend;
    private LocalTraining training;
    private float[] x;
    private float[] y;

    @Setup(Level.Trial)
    public void setUp() {
        backend = path.equals("native") ? CpuBackend.nativePath() : CpuBackend.javaPath();
        Dataset data = SyntheticDataset.generate(BATCH, 784, 10, 1);
        Mlp mlp = new Mlp(ModelSpec.of(Activation.Function.RELU, 784, 512, 256, 10), backend, BATCH);
        mlp.initialize(1);
        training = new LocalTraining(mlp, OptimizerSettings.adam(1e-3f), data, data, new TrainSettings(1, BATCH, 1));
        x = data.featureValues();
        y = data.labels();
    }

    @Benchmark
    public float step() {
        float loss = training.step(x, y, BATCH);
        backend.synchronize();
        return loss;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }
}
