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
            case ADAM, ADAMW -> new Adam(settings, Schedule.NONE, backend, length, null, 0f);
            case SGD, NESTEROV -> new SgdMomentum(settings, backend, length);
        };
    }

    /**
     * As {@link #create(OptimizerSettings, Backend, int)}, with a learning-rate {@code schedule} and
     * gradient clipping to {@code clipNorm} (0: off; a shard passes its share of the schedule's, see
     * {@link Schedule}), AdamW's decay applied only to {@code decayRanges} ({@code [from, to)} pairs
     * within these {@code length} parameters; null: all of them). Only Adam and AdamW take a schedule.
     */
    static Optimizer create(OptimizerSettings settings, Schedule schedule, Backend backend, int length, int[] decayRanges,
                            float clipNorm) {
        return switch (settings.type()) {
            case ADAM, ADAMW -> new Adam(settings, schedule, backend, length, decayRanges, clipNorm);
            case SGD, NESTEROV -> {
                if (schedule.warmupSteps() > 0 || schedule.decaySteps() > 0 || clipNorm > 0) {
                    throw new IllegalArgumentException("tributary.optimizer.warmup-steps, decay-steps and clip-norm apply"
                            + " to adam and adamw only: set them to 0 for " + settings.typeName());
                }
                yield new SgdMomentum(settings, backend, length);
            }
        };
    }
}
