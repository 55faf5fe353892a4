package io.tributary.ps.optim;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;

/**
 * Adam (Kingma and Ba, 2015) with bias correction; state: first and second moments. As AdamW
 * (Loshchilov and Hutter, 2019) it first decays the parameters by {@code lr·weight-decay}, apart from
 * the gradient.
 */
final class Adam implements Optimizer {

    private final OptimizerSettings settings;
    private final Backend backend;
    private final Tensor m;
    private final Tensor v;
    private long steps;

    Adam(OptimizerSettings settings, Backend backend, int length) {
        this.settings = settings;
        this.backend = backend;
        this.m = backend.allocate(length);
        this.v = backend.allocate(length);
    }

    @Override
    public void apply(Tensor params, Tensor grads) {
        if (params.length() != m.length() || grads.length() != m.length()) {
            throw new IllegalArgumentException("Adam serves " + m.length() + " parameters, got params "
                    + params.length() + " and grads " + grads.length());
        }
        steps++;
        if (settings.type() == OptimizerSettings.Type.ADAMW && settings.weightDecay() > 0f) {
            backend.scale(1f - settings.learningRate() * settings.weightDecay(), params);
        }
        backend.adamStep(params, grads, m, v, settings.learningRate(), settings.beta1(), settings.beta2(),
                settings.epsilon(), (int) Math.min(steps, Integer.MAX_VALUE));
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
