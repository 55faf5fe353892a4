package io.tributary.ps.optim;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;

/**
 * Adam (Kingma and Ba, 2015) with bias correction; state: first and second moments. As AdamW
 * (Loshchilov and Hutter, 2019) it first decays the parameters by {@code lr·weight-decay}, apart from
 * the gradient (all of them, or the decay ranges it was given). With a {@link Schedule} the learning
 * rate follows the step, and a gradient over the clip norm is scaled down to it first. Views of the
 * decay ranges are made once: a step allocates nothing.
 */
final class Adam implements Optimizer {

    private final OptimizerSettings settings;
    private final Backend backend;
    private final Tensor m;
    private final Tensor v;
    private final Schedule schedule;
    private final int[] decayRanges;
    private final float clipNorm;
    /** Views of the parameters to decay, made at the first step (the parameter tensor is the shard's, fixed). */
    private Tensor[] decayViews;
    private Tensor decayViewsOf;
    private long steps;

    Adam(OptimizerSettings settings, Schedule schedule, Backend backend, int length, int[] decayRanges, float clipNorm) {
        this.settings = settings;
        this.schedule = schedule;
        this.backend = backend;
        this.m = backend.allocate(length);
        this.v = backend.allocate(length);
        if (decayRanges != null) {
            if (decayRanges.length % 2 != 0) {
                throw new IllegalArgumentException("decay ranges come in [from, to) pairs, got " + decayRanges.length);
            }
            for (int i = 0; i < decayRanges.length; i += 2) {
                if (decayRanges[i] < 0 || decayRanges[i] > decayRanges[i + 1] || decayRanges[i + 1] > length) {
                    throw new IllegalArgumentException("decay range [" + decayRanges[i] + ", " + decayRanges[i + 1]
                            + ") is not within " + length + " parameters");
                }
            }
        }
        this.decayRanges = decayRanges == null ? null : decayRanges.clone();
        this.clipNorm = clipNorm;
    }

    @Override
    public void apply(Tensor params, Tensor grads) {
        if (params.length() != m.length() || grads.length() != m.length()) {
            throw new IllegalArgumentException("Adam serves " + m.length() + " parameters, got params "
                    + params.length() + " and grads " + grads.length());
        }
        float lr = schedule.learningRate(settings.learningRate(), steps);
        steps++;
        if (clipNorm > 0f) {
            float norm = backend.norm2(grads);
            if (norm > clipNorm) {
                backend.scale(clipNorm / (norm + 1e-6f), grads);
            }
        }
        if (settings.type() == OptimizerSettings.Type.ADAMW && settings.weightDecay() > 0f) {
            float keep = 1f - lr * settings.weightDecay();
            if (decayRanges == null) {
                backend.scale(keep, params);
            } else {
                for (Tensor d : decayViews(params)) {
                    backend.scale(keep, d);
                }
            }
        }
        backend.adamStep(params, grads, m, v, lr, settings.beta1(), settings.beta2(),
                settings.epsilon(), (int) Math.min(steps, Integer.MAX_VALUE));
    }

    private Tensor[] decayViews(Tensor params) {
        if (decayViewsOf != params) {
            decayViews = new Tensor[decayRanges.length / 2];
            for (int i = 0; i < decayViews.length; i++) {
                decayViews[i] = params.slice(decayRanges[2 * i], decayRanges[2 * i + 1] - decayRanges[2 * i]);
            }
            decayViewsOf = params;
        }
        return decayViews;
    }

    @Override
    public void free() {
        backend.free(m);
        backend.free(v);
    }

    @Override
    public void reset() {
        backend.fill(m, 0f);
        backend.fill(v, 0f);
        steps = 0;
    }

    @Override
    public Tensor[] state() {
        return new Tensor[] {m, v};
    }

    @Override
    public void restoreSteps(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("optimizer steps " + steps + " < 0");
        }
        this.steps = steps;
    }

    @Override
    public int length() {
        return m.length();
    }

    @Override
    public long steps() {
        return steps;
    }
}
