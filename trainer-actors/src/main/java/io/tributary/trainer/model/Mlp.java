package io.tributary.trainer.model;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A multi-layer perceptron on a backend: dense layers with an activation between them and a
 * softmax cross-entropy loss. All parameters live in one flat vector (layer by layer, each
 * dense layer's W then b), and so do their gradients: a trainer ships the gradient vector as is,
 * and a parameter server can cut both into shards by offset.
 */
public final class Mlp implements TrainableModel {

    private final ModelSpec spec;
    private final Backend backend;
    private final int maxBatch;
    private final List<Layer> layers = new ArrayList<>();
    private final Tensor params;
    private final Tensor grads;
    private final BatchViews logitGrad;
    private final BatchViews predictions;
    private final float[] hostPredictions;

    public Mlp(ModelSpec spec, Backend backend, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + maxBatch);
        }
        this.spec = spec;
        this.backend = backend;
        this.maxBatch = maxBatch;
        int[] sizes = spec.sizes();
        for (int i = 0; i + 1 < sizes.length; i++) {
            layers.add(new Dense(sizes[i], sizes[i + 1]));
            if (i + 2 < sizes.length) {
                layers.add(new Activation(spec.activation(), sizes[i + 1]));
            }
        }
        int count = spec.parameterCount();
        this.params = backend.allocate(count);
        this.grads = backend.allocate(count);
        int offset = 0;
        for (Layer layer : layers) {
            int n = layer.parameterCount();
            layer.bind(backend, params.slice(offset, n), grads.slice(offset, n), maxBatch);
            offset += n;
        }
        this.logitGrad = new BatchViews(backend.allocate(maxBatch * spec.classes()), spec.classes(), maxBatch);
        this.predictions = new BatchViews(backend.allocate(maxBatch), 1, maxBatch);
        this.hostPredictions = new float[maxBatch];
    }

    public ModelSpec spec() {
        return spec;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public int parameterCount() {
        return params.length();
    }

    /**
     * Gives every tensor of the model back to its backend ({@link Backend#free}): a model that is
     * replaced, or whose trainer stops, must not hold device memory until the backend closes.
     * The model is unusable afterwards.
     */
    @Override
    public void free() {
        for (Layer layer : layers) {
            layer.free();
        }
        logitGrad.free(backend);
        predictions.free(backend);
        backend.free(params);
        backend.free(grads);
    }

    /** The flat parameter vector (shared, on the backend). */
    @Override
    public Tensor parameters() {
        return params;
    }

    /** The flat gradient vector written by {@link #computeGradients}. */
    @Override
    public Tensor gradients() {
        return grads;
    }

    /** Fresh initial parameters from {@code seed} (He-uniform weights, zero biases). */
    public void initialize(long seed) {
        backend.upload(initialParameters(spec, seed), 0, params);
    }

    /**
     * The initial flat parameter vector for {@code spec} and {@code seed}, computed on the host:
     * every node that needs the starting point (a parameter shard, the coordinator) gets the same
     * values without shipping them.
     */
    public static float[] initialParameters(ModelSpec spec, long seed) {
        float[] host = new float[spec.parameterCount()];
        SplittableRandom random = new SplittableRandom(seed);
        int[] sizes = spec.sizes();
        int offset = 0;
        for (int i = 0; i + 1 < sizes.length; i++) {
            Dense dense = new Dense(sizes[i], sizes[i + 1]);
            dense.initialize(host, offset, random);
            offset += dense.parameterCount();
        }
        return host;
    }

    /** Forward pass; returns the logits buffer ({@code batch × classes}). */
    public Tensor forward(Tensor input, int batch) {
        Tensor x = input;
        for (int i = 0; i < layers.size(); i++) {
            x = layers.get(i).forward(x, batch);
        }
        return x;
    }

    /**
     * Forward, loss and backward over one batch: fills {@link #gradients()} with the gradient of
     * the mean loss and returns that loss. {@code labels} holds class indices as floats.
     */
    @Override
    public float computeGradients(Tensor input, Tensor labels, int batch) {
        Tensor logits = forward(input, batch);
        Tensor g = logitGrad.rows(batch);
        float loss = backend.softmaxCrossEntropy(batch, spec.classes(), logits, labels, g);
        for (int i = layers.size() - 1; i >= 0; i--) {
            g = layers.get(i).backward(g, batch, i > 0);
        }
        return loss;
    }

    @Override
    public float loss(Tensor input, Tensor labels, int batch) {
        Tensor logits = forward(input, batch);
        return backend.softmaxCrossEntropy(batch, spec.classes(), logits, labels, logitGrad.rows(batch));
    }

    /** Number of rows whose highest logit is the true class. */
    @Override
    public int countCorrect(Tensor input, float[] hostLabels, int labelOffset, int batch) {
        Tensor logits = forward(input, batch);
        Tensor p = predictions.rows(batch);
        backend.argmaxRows(batch, spec.classes(), logits, p);
        backend.download(p, hostPredictions, 0);
        int correct = 0;
        for (int i = 0; i < batch; i++) {
            if (hostPredictions[i] == hostLabels[labelOffset + i]) {
                correct++;
            }
        }
        return correct;
    }
}
