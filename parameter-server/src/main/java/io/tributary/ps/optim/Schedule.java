package io.tributary.ps.optim;

import com.typesafe.config.Config;

/**
 * How the learning rate and the gradient's size change with the step, from {@code tributary.optimizer}:
 * a linear warm-up over {@code warmupSteps}, then a cosine from the learning rate down to
 * {@code minLearningRate} at {@code decaySteps} (0: the rate stays constant after the warm-up), and
 * gradients clipped to an L2 norm of {@code clipNorm} (0: off).
 *
 * <p>Where the parameters are cut into shards, each shard clips its own slice to
 * {@code clipNorm · sqrt(slice length / model length)}: the slices' squared norms then sum to at most
 * {@code clipNorm²}, so the whole gradient's norm stays within {@code clipNorm} without the shards
 * exchanging their norms. It clips more than one global clip would when a gradient's mass sits in a
 * few shards.
 */
public record Schedule(int warmupSteps, int decaySteps, float minLearningRate, float clipNorm) {

    /** A constant learning rate, no clipping. */
    public static final Schedule NONE = new Schedule(0, 0, 0f, 0f);

    public Schedule {
        if (warmupSteps < 0 || decaySteps < 0 || (decaySteps > 0 && decaySteps <= warmupSteps)) {
            throw new IllegalArgumentException("tributary.optimizer.warmup-steps = " + warmupSteps + " and decay-steps = "
                    + decaySteps + " are invalid: both >= 0, and decay-steps 0 (no decay) or > warmup-steps");
        }
        if (!(minLearningRate >= 0) || !(clipNorm >= 0)) {
            throw new IllegalArgumentException("tributary.optimizer.min-learning-rate and clip-norm must be >= 0, got "
                    + minLearningRate + " and " + clipNorm);
        }
    }

    /** Reads the schedule keys of {@code tributary.optimizer}. */
    public static Schedule from(Config root) {
        Config c = root.getConfig("tributary.optimizer");
        return new Schedule(c.getInt("warmup-steps"), c.getInt("decay-steps"), (float) c.getDouble("min-learning-rate"),
                (float) c.getDouble("clip-norm"));
    }

    /** The learning rate of 0-based step {@code step} for a peak rate {@code peak}. */
    public float learningRate(float peak, long step) {
        if (step < warmupSteps) {
            return (float) ((double) peak * (step + 1) / (warmupSteps + 1));
        }
        if (decaySteps == 0) {
            return peak;
        }
        if (step >= decaySteps) {
            return minLearningRate;
        }
        double ratio = (double) (step - warmupSteps) / (decaySteps - warmupSteps);
        return (float) (minLearningRate + 0.5 * (1.0 + Math.cos(Math.PI * ratio)) * (peak - minLearningRate));
    }
}
