package io.tributary.ps.optim;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;

/**
 * SGD with momentum; state: the velocity. Heavy-ball ({@code sgd}, with L2 weight decay):
 * {@code v = m·v + g + wd·p}, {@code p -= lr·v}. Nesterov ({@code nesterov}, local SGD's outer
 * optimizer, DiLoCo's 0.7 and 0.9): {@code v = m·v + g}, then {@code p -= lr·(g + m·v)}, in four
 * BLAS-1 calls on the backend. Nothing is allocated per step.
 */
final class SgdMomentum implements Optimizer {

    private final OptimizerSettings settings;
    private final Backend backend;
    private final Tensor velocity;
    private long steps;

    SgdMomentum(OptimizerSettings settings, Backend backend, int length) {
        this.settings = settings;
        this.backend = backend;
        this.velocity = backend.allocate(length);
    }

    @Override
    public void apply(Tensor params, Tensor grads) {
        if (params.length() != velocity.length() || grads.length() != velocity.length()) {
            throw new IllegalArgumentException("SGD serves " + velocity.length() + " parameters, got params "
                    + params.length() + " and grads " + grads.length());
        }
        steps++;
        if (settings.type() == OptimizerSettings.Type.NESTEROV) {
            float lr = settings.learningRate();
            float m = settings.momentum();
            backend.scale(m, velocity);
            backend.axpy(1f, grads, velocity);
            backend.axpy(-lr, grads, params);
            backend.axpy(-lr * m, velocity, params);
            return;
        }
        backend.sgdMomentumStep(params, grads, velocity, settings.learningRate(), settings.momentum(),
                settings.weightDecay());
    }

    @Override
    public void free() {
        backend.free(velocity);
    }

    @Override
    public void reset() {
        backend.fill(velocity, 0f);
        steps = 0;
    }

    @Override
    public int length() {
        return velocity.length();
    }

    @Override
    public Tensor[] state() {
        return new Tensor[] {velocity};
    }

    @Override
    public void restoreSteps(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("optimizer steps " + steps + " < 0");
        }
        this.steps = steps;
    }

    @Override
    public long steps() {
        return steps;
    }
}
