package io.tributary.trainer.cluster;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;

/**
 * A trainer's model on its backend with the input tensors of a batch: it computes one step's
 * gradient (forward and backward) into a host buffer, and grows its buffers when a plan gives the
 * trainer a larger batch than any before.
 */
final class ModelStep {

    private final ModelSpec spec;
    private final int features;
    private Mlp model;
    private Tensor input;
    private Tensor labels;
    /** Samples the model's and the input tensors' buffers hold at most. */
    private int capacity;

    ModelStep(ModelSpec spec, int features, Backend backend, int capacity) {
        this.spec = spec;
        this.features = features;
        allocate(backend, capacity);
    }

    private void allocate(Backend backend, int samples) {
        capacity = samples;
        model = new Mlp(spec, backend, capacity);
        input = backend.allocate(capacity * features);
        labels = backend.allocate(capacity);
    }

    int parameterCount() {
        return model.parameterCount();
    }

    int capacity() {
        return capacity;
    }

    /** Makes room for a batch of {@code samples} (more than {@link #capacity()}): the buffers are allocated anew. */
    void grow(int samples, Backend backend) {
        allocate(backend, samples);
    }

    /** Uploads the parameters and a batch of {@code n <= capacity()} samples. */
    void load(Backend backend, float[] parameters, float[] batchFeatures, float[] batchLabels, int n) {
        backend.upload(parameters, 0, model.parameters());
        backend.upload(batchFeatures, 0, n == capacity ? input : input.slice(0, n * features));
        backend.upload(batchLabels, 0, n == capacity ? labels : labels.slice(0, n));
    }

    /** Forward and backward over the {@code n} samples loaded; the gradient goes to {@code gradient}. */
    float gradients(Backend backend, int n, float[] gradient) {
        float loss = model.computeGradients(input, labels, n);
        backend.download(model.gradients(), gradient, 0);
        return loss;
    }
}
