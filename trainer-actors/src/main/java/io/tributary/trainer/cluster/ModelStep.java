package io.tributary.trainer.cluster;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.ps.optim.Optimizer;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.model.ModelShape;
import io.tributary.trainer.model.TrainableModel;

/**
 * A trainer's model on its backend with the input tensors of a batch: it computes one step's
 * gradient (forward and backward) into a host buffer, and grows its buffers when a plan gives the
 * trainer a larger batch than any before. Under local SGD it runs a round instead: inner steps of
 * its own optimizer over the round's batch, then the pseudo-gradient into the host buffer.
 */
final class ModelStep {

    private final ModelShape spec;
    private final int features;
    private final int labelWidth;
    /** The backend every tensor of this object lives on (a trainer's may change only across actor restarts). */
    private final Backend backend;
    private TrainableModel model;
    private Tensor input;
    private Tensor labels;
    /** Samples the model's and the input tensors' buffers hold at most. */
    private int capacity;
    /** Local SGD: the trainer's own (inner) optimizer, kept from round to round; null otherwise. */
    private Optimizer inner;
    private OptimizerSettings innerSettings;

    ModelStep(ModelShape spec, Backend backend, int capacity) {
        this.spec = spec;
        this.features = spec.inputsPerSample();
        this.labelWidth = spec.labelsPerSample();
        this.backend = backend;
        allocate(capacity);
    }

    private void allocate(int samples) {
        capacity = samples;
        model = spec.build(backend, capacity);
        input = backend.allocate(capacity * features);
        labels = backend.allocate(capacity * labelWidth);
    }

    int parameterCount() {
        return model.parameterCount();
    }

    int capacity() {
        return capacity;
    }

    /**
     * Makes room for a batch of {@code samples} (more than {@link #capacity()}): the buffers are
     * allocated anew, the old ones freed. {@code backend} must be the one this object was made on.
     */
    void grow(int samples, Backend backend) {
        sameBackend(backend);
        freeModelAndInputs();
        allocate(samples);
    }

    /**
     * Gives every tensor back to the backend (the model, the input buffers, the inner optimizer's
     * state): the trainer actor stops or restarts, and the next one makes its own.
     */
    void free() {
        freeModelAndInputs();
        if (inner != null) {
            inner.free();
            inner = null;
        }
    }

    private void freeModelAndInputs() {
        model.free();
        backend.free(input);
        backend.free(labels);
    }

    private void sameBackend(Backend b) {
        if (b != backend) {
            throw new IllegalStateException("this model's tensors live on " + backend.description() + ", not on "
                    + b.description() + ": a model does not move between backends; make a new one");
        }
    }

    /** Local SGD: the optimizer this trainer applies at each inner step (its state lives as long as this object). */
    void innerOptimizer(OptimizerSettings settings, Backend backend) {
        sameBackend(backend);
        innerSettings = settings;
        if (inner != null) {
            inner.free();
        }
        inner = Optimizer.create(settings, backend, model.parameterCount());
    }

    /** Inner steps applied so far (all rounds). */
    long innerStepsTaken() {
        return inner == null ? 0 : inner.steps();
    }

    /** The optimizer of {@link #innerOptimizer}, for the log. */
    OptimizerSettings innerSettings() {
        return innerSettings;
    }

    /**
     * One local-SGD round: from {@code parameters} (the round's start), {@code innerSteps} steps of the
     * inner optimizer over consecutive parts of the batch's {@code n} samples, then {@code pseudoGradient}
     * = start minus end, in exactly {@code min(innerSteps, n)} inner steps on consecutive parts of
     * sizes differing by one at most. Parts of the model's full capacity use its tensors; smaller ones
     * take a view (a small object per step, only where the plan's batch is uneven).
     *
     * @return the mean loss over the inner steps
     */
    float round(Backend backend, float[] parameters, float[] batchFeatures, float[] batchLabels, int n, int innerSteps,
            float[] pseudoGradient) {
        if (inner == null) {
            throw new IllegalStateException("a local-SGD round needs innerOptimizer(...) first");
        }
        int steps = Math.max(1, Math.min(innerSteps, n));
        // exactly `steps` parts: the first n % steps of them one sample larger
        int base = n / steps;
        int larger = n % steps;
        int part = larger > 0 ? base + 1 : base;
        if (part > capacity) {
            throw new IllegalStateException("inner batch of " + part + " samples exceeds the model's " + capacity);
        }
        backend.upload(parameters, 0, model.parameters());
        double loss = 0;
        int done = 0;
        int from = 0;
        for (int i = 0; i < steps; i++) {
            int size = i < larger ? base + 1 : base;
            // full parts use the tensors themselves; only a short last part takes a view
            Tensor in = size == capacity ? input : input.slice(0, size * features);
            Tensor out = size == capacity ? labels : labels.slice(0, size * labelWidth);
            backend.upload(batchFeatures, from * features, in);
            backend.upload(batchLabels, from * labelWidth, out);
            loss += model.computeGradients(in, out, size);
            inner.apply(model.parameters(), model.gradients());
            done++;
            from += size;
        }
        backend.download(model.parameters(), pseudoGradient, 0);
        for (int i = 0; i < pseudoGradient.length; i++) {
            pseudoGradient[i] = parameters[i] - pseudoGradient[i];
        }
        return (float) (loss / Math.max(1, done));
    }

    /** Uploads the parameters and a batch of {@code n <= capacity()} samples. */
    void load(Backend backend, float[] parameters, float[] batchFeatures, float[] batchLabels, int n) {
        backend.upload(parameters, 0, model.parameters());
        backend.upload(batchFeatures, 0, n == capacity ? input : input.slice(0, n * features));
        backend.upload(batchLabels, 0, n == capacity ? labels : labels.slice(0, n * labelWidth));
    }

    /** Forward and backward over the {@code n} samples loaded; the gradient goes to {@code gradient}. */
    float gradients(Backend backend, int n, float[] gradient) {
        float loss = model.computeGradients(input, labels, n);
        backend.download(model.gradients(), gradient, 0);
        return loss;
    }
}
