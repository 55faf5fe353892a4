package io.tributary.ps.optim;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;

/**
 * SGD with Nesterov momentum, the outer optimizer of local SGD (DiLoCo: learning rate 0.7, momentum
 * 0.9): {@code v = m·v + g}, then {@code p -= lr·(g + m·v)}. State: the velocity. Four BLAS-1 calls
 * on the backend, nothing allocated.
 */
final class SgdNesterov implements Optimizer {

    private final OptimizerSettings settings;
    private final Backend backend;
    private final Tensor velocity;
    private long steps;

    SgdNesterov(OptimizerSettings settings, Backend backend, int length) {
        this.settings = settings;
        this.backend = backend;
        this.velocity = backend.allocate(length);
    }

    @Override
    public void apply(Tensor params, Tensor grads) {
        if (params.length() != velocity.length() || grads.length() != velocity.length()) {
            throw new IllegalArgumentException("Nesterov SGD serves " + velocity.length() + " parameters, got params "
                    + params.length() + " and grads " + grads.length());
        }
        steps++;
        float lr = settings.learningRate();
        float m = settings.momentum();
        backend.scale(m, velocity);
        backend.axpy(1f, grads, velocity);
        backend.axpy(-lr, grads, params);
        backend.axpy(-lr * m, velocity, params);
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
