package io.tributary.ps.optim;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;

/**
 * Applies gradients to one flat parameter vector (a model, or one shard of it) and owns the
 * optimizer state for it, on the backend where the parameters live. Nothing is allocated per step.
 */
public interface Optimizer {

    /** Applies one step: {@code params} move against {@code grads}. Lengths equal {@link #length()}. */
    void apply(Tensor params, Tensor grads);

    /** Number of parameters this optimizer serves. */
    int length();

    /** Steps applied so far. */
    long steps();

    /** Zeroes the state and the step count, as a fresh optimizer (a shard restored from a checkpoint). */
    void reset();

    /** The state vectors it keeps, each {@link #length()} floats (Adam: 2, SGD with momentum: 1). */
    Tensor[] state();

    /**
     * Sets the step count, with {@link #state()} already filled by the caller: a shard that moved to
     * another node goes on with the optimizer state its previous owner had.
     */
    void restoreSteps(long steps);

    /** Gives its state's memory back to the backend ({@link Backend#free}); the optimizer is unusable afterwards. */
    void free();

    /** Creates the optimizer for {@code length} parameters with zeroed state on {@code backend}. */
    static Optimizer create(OptimizerSettings settings, Backend backend, int length) {
        return switch (settings.type()) {
            case ADAM, ADAMW -> new Adam(settings, backend, length);
            case SGD, NESTEROV -> new SgdMomentum(settings, backend, length);
        };
    }
}
