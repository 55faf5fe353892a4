package io.tributary.cli;

import com.typesafe.config.Config;
import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendMode;
import io.tributary.kernels.Backends;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.DataSets;
import io.tributary.trainer.local.LocalTraining;
import io.tributary.trainer.local.TrainSettings;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** {@code tributary train --local}: one process trains the configured model and reports. */
final class TrainLocalCommand {

    private final Config config;
    private final PrintStream out;

    TrainLocalCommand(Config config, PrintStream out) {
        this.config = config;
        this.out = out;
    }

    /** Returns the final test accuracy (the final validation loss for the GPT model). */
    double run() {
        if (config.getString("tributary.model.kind").equals("gpt")) {
            return new TrainGptCommand(config, out).run();
        }
        ModelSpec spec = ModelSpec.from(config);
        TrainSettings train = TrainSettings.from(config);
        OptimizerSettings optimizer = OptimizerSettings.from(config);
        BackendMode mode = io.tributary.node.RunSettings.from(config).backend();
        Dataset[] data = loadData();
        Dataset trainSet = data[0];
        Dataset testSet = data[1];
        try (Backend backend = Backends.open(mode, line -> out.println("note: " + line))) {
            out.println("backend:   " + backend.description());
            out.println("model:     " + spec);
            out.println("data:      " + trainSet.count() + " training / " + testSet.count() + " test samples ("
                    + trainSet.name() + ")");
            out.println("optimizer: " + optimizer.type().name().toLowerCase(Locale.ROOT) + ", learning rate "
                    + optimizer.learningRate() + ", batch " + train.batchSize() + ", " + train.epochs() + " epochs, seed "
                    + train.seed());
            Mlp model = new Mlp(spec, backend, train.batchSize());
            model.initialize(train.seed());
            LocalTraining training = new LocalTraining(model, optimizer, trainSet, testSet, train);
            ProgressBar bar = ProgressBar.on(out);
            List<LocalTraining.EpochResult> results = training.run(new LocalTraining.Listener() {
                private double smoothedLoss = Double.NaN;

                @Override
                public void onStep(int epoch, int batch, int batches, float loss, double samplesPerSecond) {
                    smoothedLoss = Double.isNaN(smoothedLoss) ? loss : 0.95 * smoothedLoss + 0.05 * loss;
                    bar.update(String.format(Locale.ROOT, "epoch %d/%d", epoch, train.epochs()),
                            (double) batch / batches,
                            String.format(Locale.ROOT, "%,.0f samples/s  loss %.4f", samplesPerSecond, smoothedLoss));
                }

                @Override
                public void onEpoch(LocalTraining.EpochResult r) {
                    bar.finishLine();
                    out.printf(Locale.ROOT, "epoch %d/%d done: mean loss %.4f, %,.0f samples/s, %.1f s, test accuracy %.2f%%%n",
                            r.epoch(), train.epochs(), r.meanLoss(), r.samplesPerSecond(), r.trainSeconds(),
                            r.testAccuracy() * 100);
                }
            });
            double accuracy = results.get(results.size() - 1).testAccuracy();
            out.printf(Locale.ROOT, "result: final test accuracy %.2f%% after %d epochs (%d test samples)%n",
                    accuracy * 100, results.size(), testSet.count());
            return accuracy;
        }
    }

    private Dataset[] loadData() {
        ModelSpec spec = ModelSpec.from(config);
        return new Dataset[] {DataSets.load(config, true, spec.inputs(), spec.classes()),
                DataSets.load(config, false, spec.inputs(), spec.classes())};
    }
}
