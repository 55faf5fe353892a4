package io.tributary.trainer.model;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;

/**
 * A model a trainer steps: one flat parameter vector and one flat gradient vector of the same layout
 * on a backend, and a forward-and-backward pass over a batch. {@link Mlp} (a sample is a feature row
 * and one class) and {@link io.tributary.trainer.gpt.Gpt} (a sample is a window of token ids and the
 * next token of each position) are the two.
 */
public interface TrainableModel {

    Backend backend();

    /** Samples its buffers hold at most. */
    int maxBatch();

    int parameterCount();

    /** The flat parameter vector (on the backend). */
    Tensor parameters();

    /** The flat gradient vector {@link #computeGradients} writes. */
    Tensor gradients();

    /**
     * Forward, loss and backward over {@code batch} samples: fills {@link #gradients()} with the
     * gradient of the mean loss (overwriting) and returns that loss.
     */
    float computeGradients(Tensor input, Tensor labels, int batch);

    /** The mean loss over {@code batch} samples, without gradients. */
    float loss(Tensor input, Tensor labels, int batch);

    /**
     * How many of the {@code batch} samples' labels the model predicts (the highest logit is the
     * label): one per sample for the MLP, one per position for the GPT. The labels are read from
     * {@code hostLabels} from {@code labelOffset}.
     */
    int countCorrect(Tensor input, float[] hostLabels, int labelOffset, int batch);

    /** Gives every tensor back to the backend; the model is unusable afterwards. */
    void free();
}
