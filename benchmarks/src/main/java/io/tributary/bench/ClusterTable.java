package io.tributary.bench;

import io.tributary.coordinator.RunResult;
import io.tributary.demo.DemoCommand;
import io.tributary.kernels.Backend;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.MnistIdx;
import io.tributary.trainer.data.SyntheticDataset;
import io.tributary.trainer.local.LocalTraining;
import io.tributary.trainer.local.TrainSettings;
import io.tributary.trainer.model.Activation;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Row (a) of the cluster benchmark: samples/s of the local cluster (this JVM as coordinator, one
 * parameter-server JVM and two trainer JVMs on 127.0.0.1) over samples/s of single-process
 * {@code train --local}, same model (MLP 784-512-256-10), same global batch (128), same data, one
 * epoch each from a cold start, measured one after the other in this run.
 *
 * <p>Run: {@code scripts/bench-cluster.sh} (builds, then runs this class from the benchmarks jar).
 */
public final class ClusterTable {

    private ClusterTable() {
    }

    public static void main(String[] args) throws Exception {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        boolean mnist = Files.isRegularFile(MnistIdx.defaultDirectory().resolve(MnistIdx.TEST_LABELS));
        System.out.println("# Tributary cluster table: " + Runtime.getRuntime().availableProcessors() + " cores, "
                + (mnist ? "MNIST" : "synthetic data (MNIST not fetched)") + ", " + epochs + " epoch(s), batch 128");

        double local = localSamplesPerSecond(mnist, epochs);
        Path runs = Files.createTempDirectory("tributary-bench-runs");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, String> overrides = new java.util.HashMap<>(Map.of("tributary.train.epochs", Integer.toString(epochs),
                "tributary.train.batch-size", "128", "tributary.model.layers", "[784,512,256,10]"));
        if (!mnist) {
            overrides.put("tributary.data.set", "synthetic");
        }
        RunResult cluster = new DemoCommand(new DemoCommand.Options(2, 1, null, overrides, runs, Duration.ofMinutes(20)),
                new PrintStream(log, true, StandardCharsets.UTF_8)).run();

        System.out.println();
        System.out.println("| measure | local (1 JVM) | cluster (1 coordinator + 1 ps + 2 trainers) | cluster / local |");
        System.out.println("|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| samples/s over the run | %,.0f | %,.0f | %.2f |%n", local,
                cluster.samplesPerSecond(), cluster.samplesPerSecond() / local);
        System.out.printf(Locale.ROOT, "%ncluster run: %d steps in %.1f s, test accuracy %.2f%%, %d gradient checksums "
                        + "compared, %d mismatches; logs in %s%n", cluster.steps(), cluster.seconds(),
                cluster.accuracy() * 100, cluster.checksumsCompared(), cluster.checksumMismatches(), runs);
    }

    /** One process's samples/s over {@code epochs} epochs of training (test passes excluded). */
    static double localSamplesPerSecond(boolean mnist, int epochs) {
        Dataset train;
        Dataset test;
        if (mnist) {
            train = MnistIdx.loadTrain(MnistIdx.defaultDirectory());
            test = MnistIdx.loadTest(MnistIdx.defaultDirectory()).head(1000);
        } else {
            Dataset all = SyntheticDataset.generate(61_000, 784, 10, 42);
            train = all.head(60_000);
            test = all.head(1000);
        }
        try (Backend backend = CpuBackend.create()) {
            Mlp mlp = new Mlp(ModelSpec.of(Activation.Function.RELU, 784, 512, 256, 10), backend, 128);
            mlp.initialize(42);
            LocalTraining t = new LocalTraining(mlp, OptimizerSettings.adam(1e-3f), train, test,
                    new TrainSettings(epochs, 128, 42));
            List<LocalTraining.EpochResult> r = t.run(new LocalTraining.Listener() {
                @Override
                public void onStep(int epoch, int batch, int batches, float loss, double samplesPerSecond) {
                }

                @Override
                public void onEpoch(LocalTraining.EpochResult result) {
                }
            });
            double samples = 0;
            double seconds = 0;
            for (LocalTraining.EpochResult e : r) {
                samples += e.samplesPerSecond() * e.trainSeconds();
                seconds += e.trainSeconds();
            }
            return samples / seconds;
        }
    }
}
