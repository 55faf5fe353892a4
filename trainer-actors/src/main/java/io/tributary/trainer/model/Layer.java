package io.tributary.trainer.model;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import java.util.SplittableRandom;

/**
 * One layer of a feed-forward network on a {@link Backend}. A layer owns its activation buffers
 * (sized for the largest batch) and views of the model's flat parameter and gradient vectors.
 */
public interface Layer {

    int inputSize();

    int outputSize();

    /** Number of trainable parameters (0 for activations). */
    int parameterCount();

    /**
     * Binds the layer to a backend: {@code params} and {@code grads} are this layer's slices of
     * the model's flat vectors; buffers are allocated for up to {@code maxBatch} rows.
     */
    void bind(Backend backend, Tensor params, Tensor grads, int maxBatch);

    /** Gives the buffers {@link #bind} allocated back to its backend; the layer is unusable afterwards. */
    void free();

    /** Writes initial parameter values into {@code host[offset..offset+parameterCount())}. */
    void initialize(float[] host, int offset, SplittableRandom random);

    /** Forward pass over {@code batch} rows; returns the layer's output buffer (valid until the next call). */
    Tensor forward(Tensor input, int batch);

    /**
     * Backward pass: writes this layer's parameter gradients (overwriting) and, when
     * {@code needInputGradient}, returns the gradient with respect to the input (else null).
     */
    Tensor backward(Tensor gradOutput, int batch, boolean needInputGradient);
}
