package io.tributary.trainer.gpt;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW (Loshchilov and Hutter) for a {@link Gpt}: weight decay decoupled from the gradient and
 * applied to matrices only ({@link GptSpec.Param#decays()}), gradients clipped to a global L2 norm
 * first, and a learning rate that warms up linearly and then follows a cosine down to a floor.
 * Per step: {@code p *= 1 - lr·wd} (matrices), then the Adam update with bias correction. Views of
 * the decaying tensors are made once; a step allocates nothing.
 */
public final class AdamW {

    /** The recipe's knobs. */
    public record Settings(double learningRate, double minLearningRate, int warmupSteps, int decaySteps,
                           double beta1, double beta2, double eps, double weightDecay, double clipNorm) {
        public Settings {
            if (!(learningRate > 0) || minLearningRate < 0 || minLearningRate > learningRate) {
                throw new IllegalArgumentException("learning rates must satisfy 0 <= min-learning-rate <= learning-rate,"
                        + " learning-rate > 0; got " + learningRate + " and " + minLearningRate);
            }
            if (warmupSteps < 0 || decaySteps <= warmupSteps) {
                throw new IllegalArgumentException("need 0 <= warmup-steps < decay-steps, got " + warmupSteps + " and "
                        + decaySteps);
            }
            if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0 && weightDecay >= 0)) {
                throw new IllegalArgumentException("AdamW needs betas in [0, 1), eps > 0, weight-decay >= 0");
            }
        }

        /** The reference recipe: lr 1e-3, betas 0.9/0.99, wd 0.1, 100 warm-up steps, cosine to 1e-4 at 2000, clip 1. */
        public static Settings reference() {
            return new Settings(1e-3, 1e-4, 100, 2000, 0.9, 0.99, 1e-8, 0.1, 1.0);
        }
    }

    private final Settings settings;
    private final Backend backend;
    private final Tensor m;
    private final Tensor v;
    private final List<Tensor> decaying = new ArrayList<>();
    private int step;
    private double lastNorm;

    public AdamW(Settings settings, Gpt model) {
        this.settings = settings;
        this.backend = model.backend();
        this.m = backend.allocate(model.parameterCount());
        this.v = backend.allocate(model.parameterCount());
        for (GptSpec.Param p : model.spec().layout()) {
            if (p.decays()) {
                decaying.add(model.parameters().slice(p.offset(), p.length()));
            }
        }
    }

    /** The learning rate of 0-based step {@code it}: linear warm-up, then cosine to the floor at decay-steps. */
    public static double learningRate(Settings s, int it) {
        if (it < s.warmupSteps()) {
            return s.learningRate() * (it + 1) / (s.warmupSteps() + 1);
        }
        if (it >= s.decaySteps()) {
            return s.minLearningRate();
        }
        double ratio = (double) (it - s.warmupSteps()) / (s.decaySteps() - s.warmupSteps());
        double coeff = 0.5 * (1.0 + Math.cos(Math.PI * ratio));
        return s.minLearningRate() + coeff * (s.learningRate() - s.minLearningRate());
    }

    /** Steps taken so far. */
    public int steps() {
        return step;
    }

    /** The gradient's global L2 norm before clipping, at the last step. */
    public double lastGradientNorm() {
        return lastNorm;
    }

    /** Clips {@code grads} to the global norm, decays the matrices, and takes one Adam step on {@code params}. */
    public void apply(Tensor params, Tensor grads) {
        double lr = learningRate(settings, step);
        float norm = backend.norm2(grads);
        lastNorm = norm;
        if (!Float.isFinite(norm)) {
            throw new IllegalStateException("the gradient's norm is " + norm + " at step " + step
                    + ": training diverged; lower tributary.gpt.learning-rate or check the data");
        }
        if (settings.clipNorm() > 0 && norm > settings.clipNorm()) {
            backend.scale((float) (settings.clipNorm() / (norm + 1e-6)), grads);
        }
        if (settings.weightDecay() > 0) {
            float keep = (float) (1.0 - lr * settings.weightDecay());
            for (Tensor d : decaying) {
                backend.scale(keep, d);
            }
        }
        step++;
        backend.adamStep(params, grads, m, v, (float) lr, (float) settings.beta1(), (float) settings.beta2(),
                (float) settings.eps(), step);
    }

    /** Gives the moment buffers back to the backend. */
    public void free() {
        backend.free(m);
        backend.free(v);
    }
}
