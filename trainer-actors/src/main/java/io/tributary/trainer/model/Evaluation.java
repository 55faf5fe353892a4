package io.tributary.trainer.model;

import io.tributary.kernels.Tensor;
import io.tributary.trainer.data.Dataset;

/**
 * Test-set accuracy and loss of a model, in batches of the model's buffer size (once per evaluation,
 * not per step). Accuracy counts labels: one per sample for the MLP, one per position for the GPT.
 */
public final class Evaluation {

    private Evaluation() {
    }

    /** Fraction of {@code data}'s labels the model predicts. */
    public static double accuracy(TrainableModel model, Dataset data) {
        int batch = model.maxBatch();
        int features = data.features();
        float[] hostX = new float[batch * features];
        Tensor input = model.backend().allocate(batch * features);
        int correct = 0;
        try {
            for (int from = 0; from < data.count(); from += batch) {
                int n = Math.min(batch, data.count() - from);
                System.arraycopy(data.featureValues(), from * features, hostX, 0, n * features);
                Tensor x = n == batch ? input : input.slice(0, n * features);
                model.backend().upload(hostX, 0, x);
                correct += model.countCorrect(x, data.labels(), from * data.labelWidth(), n);
            }
        } finally {
            model.backend().free(input); // once per evaluation: device memory must not pile up
        }
        long labels = (long) data.count() * data.labelWidth();
        return labels == 0 ? 0 : (double) correct / labels;
    }

    /** The mean loss over {@code data} (per label: nats per character for the GPT). */
    public static double loss(TrainableModel model, Dataset data) {
        int batch = model.maxBatch();
        int features = data.features();
        int width = data.labelWidth();
        Tensor input = model.backend().allocate(batch * features);
        Tensor labels = model.backend().allocate(batch * width);
        float[] hostX = new float[batch * features];
        float[] hostY = new float[batch * width];
        double sum = 0;
        try {
            for (int from = 0; from < data.count(); from += batch) {
                int n = Math.min(batch, data.count() - from);
                System.arraycopy(data.featureValues(), from * features, hostX, 0, n * features);
                System.arraycopy(data.labels(), from * width, hostY, 0, n * width);
                Tensor x = n == batch ? input : input.slice(0, n * features);
                Tensor y = n == batch ? labels : labels.slice(0, n * width);
                model.backend().upload(hostX, 0, x);
                model.backend().upload(hostY, 0, y);
                sum += (double) model.loss(x, y, n) * n;
            }
        } finally {
            model.backend().free(input);
            model.backend().free(labels);
        }
        return data.count() == 0 ? Double.NaN : sum / data.count();
    }
}
