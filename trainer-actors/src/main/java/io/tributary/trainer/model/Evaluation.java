package io.tributary.trainer.model;

import io.tributary.kernels.Tensor;
import io.tributary.trainer.data.Dataset;

/** Test-set accuracy of a model, in batches of the model's buffer size (once per evaluation, not per step). */
public final class Evaluation {

    private Evaluation() {
    }

    /** Fraction of {@code data} the model classifies correctly. */
    public static double accuracy(Mlp model, Dataset data) {
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
                correct += model.countCorrect(x, data.labels(), from, n);
            }
        } finally {
            model.backend().free(input); // once per evaluation: device memory must not pile up
        }
        return data.count() == 0 ? 0 : (double) correct / data.count();
    }
}
