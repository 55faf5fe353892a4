package io.tributary.trainer.local;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.ps.optim.Optimizer;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.data.BatchIterator;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.model.Evaluation;
import io.tributary.trainer.model.Mlp;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains a model in one process: the baseline that distributed runs must match. Each epoch
 * shuffles the training set, steps the optimizer once per mini-batch and then evaluates on the
 * test set. Buffers are allocated once; the step loop allocates nothing.
 */
public final class LocalTraining {

    /** Progress callbacks; called on the training thread. */
    public interface Listener {
        /** After each optimizer step. */
        void onStep(int epoch, int batchInEpoch, int batchesPerEpoch, float loss, double samplesPerSecond);

        /** After each epoch's evaluation. */
        void onEpoch(EpochResult result);
    }

    /** What one epoch achieved. Throughput counts training steps only, not evaluation. */
    public record EpochResult(int epoch, double meanLoss, double testAccuracy, double samplesPerSecond,
                              double trainSeconds) {
    }

    private final Mlp model;
    private final Optimizer optimizer;
    private final Dataset train;
    private final Dataset test;
    private final TrainSettings settings;
    private final Backend backend;
    private final Tensor input;
    private final Tensor labels;

    public LocalTraining(Mlp model, OptimizerSettings optimizerSettings, Dataset train, Dataset test,
                         TrainSettings settings) {
        if (train.features() != model.spec().inputs()) {
            throw new IllegalArgumentException("the model takes " + model.spec().inputs() + " inputs but data set "
                    + train.name() + " has " + train.features() + " features per sample: fix tributary.model.layers");
        }
        if (train.classes() > model.spec().classes()) {
            throw new IllegalArgumentException("data set " + train.name() + " has " + train.classes()
                    + " classes but the model outputs " + model.spec().classes() + ": fix tributary.model.layers");
        }
        if (settings.batchSize() > model.maxBatch()) {
            throw new IllegalArgumentException("batch size " + settings.batchSize() + " exceeds the model's buffers ("
                    + model.maxBatch() + ")");
        }
        this.model = model;
        this.backend = model.backend();
        this.optimizer = Optimizer.create(optimizerSettings, backend, model.parameterCount());
        this.train = train;
        this.test = test;
        this.settings = settings;
        this.input = backend.allocate(model.maxBatch() * train.features());
        this.labels = backend.allocate(model.maxBatch());
    }

    /** Runs every epoch and returns their results. */
    public List<EpochResult> run(Listener listener) {
        int[] all = new int[train.count()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        BatchIterator batches = new BatchIterator(train, all, settings.batchSize(), BatchIterator.PartialBatch.SERVE,
                settings.seed());
        List<EpochResult> results = new ArrayList<>();
        for (int epoch = 1; epoch <= settings.epochs(); epoch++) {
            batches.startEpoch(epoch);
            long start = System.nanoTime();
            double lossSum = 0;
            long samples = 0;
            int batchIndex = 0;
            while (batches.next()) {
                int n = batches.size();
                float loss = step(batches.features(), batches.labels(), n);
                lossSum += loss * n;
                samples += n;
                batchIndex++;
                double seconds = (System.nanoTime() - start) / 1e9;
                listener.onStep(epoch, batchIndex, batches.batchesPerEpoch(), loss, samples / Math.max(seconds, 1e-9));
            }
            backend.synchronize();
            double seconds = (System.nanoTime() - start) / 1e9;
            double accuracy = evaluate(test);
            EpochResult result = new EpochResult(epoch, lossSum / Math.max(samples, 1), accuracy,
                    samples / Math.max(seconds, 1e-9), seconds);
            results.add(result);
            listener.onEpoch(result);
        }
        return results;
    }

    /** One optimizer step on a host batch of {@code n} rows; returns the batch's mean loss. */
    public float step(float[] features, float[] batchLabels, int n) {
        Tensor x = n == model.maxBatch() ? input : input.slice(0, n * train.features());
        Tensor y = n == model.maxBatch() ? labels : labels.slice(0, n);
        backend.upload(features, 0, x);
        backend.upload(batchLabels, 0, y);
        float loss = model.computeGradients(x, y, n);
        optimizer.apply(model.parameters(), model.gradients());
        return loss;
    }

    /** Fraction of {@code data} classified correctly by the current parameters. */
    public double evaluate(Dataset data) {
        return Evaluation.accuracy(model, data);
    }
}
