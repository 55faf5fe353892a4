package io.tributary.ps.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

class OptimizerTest {

    /** Minimises f(p) = sum (p_i - t_i)^2 / 2, whose gradient is p - t. */
    private static float minimise(OptimizerSettings settings, int steps) {
        try (Backend b = CpuBackend.create()) {
            int n = 37;
            float[] target = new float[n];
            for (int i = 0; i < n; i++) {
                target[i] = (float) Math.sin(i);
            }
            Tensor p = b.allocate(n);
            Tensor t = b.allocate(n);
            Tensor g = b.allocate(n);
            b.upload(target, 0, t);
            Optimizer opt = Optimizer.create(settings, b, n);
            for (int s = 0; s < steps; s++) {
                b.copy(p, g);
                b.axpy(-1f, t, g);
                opt.apply(p, g);
            }
            assertEquals(steps, opt.steps());
            b.copy(p, g);
            b.axpy(-1f, t, g);
            return b.norm2(g);
        }
    }

    @Test
    void adamConvergesOnAQuadratic() {
        float start = minimise(OptimizerSettings.adam(0.05f), 0);
        float end = minimise(OptimizerSettings.adam(0.05f), 400);
        assertTrue(end < start * 0.01, "Adam left residual " + end + " of " + start);
    }

    @Test
    void sgdMomentumConvergesOnAQuadratic() {
        float start = minimise(OptimizerSettings.sgd(0.1f, 0.9f), 0);
        float end = minimise(OptimizerSettings.sgd(0.1f, 0.9f), 200);
        assertTrue(end < start * 1e-3, "SGD left residual " + end + " of " + start);
    }

    @Test
    void invalidSettingsNameTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OptimizerSettings.sgd(0.1f, 1.5f));
        assertTrue(e.getMessage().contains("tributary.optimizer.momentum"), e.getMessage());
    }

    @Test
    void wrongLengthIsRefused() {
        try (Backend b = CpuBackend.create()) {
            Optimizer opt = Optimizer.create(OptimizerSettings.adam(0.01f), b, 10);
            assertThrows(IllegalArgumentException.class, () -> opt.apply(b.allocate(9), b.allocate(9)));
        }
    }

    /** Applies {@code grads} one after the other to one parameter starting at {@code p0}; returns each step's value. */
    private static float[] trace(OptimizerSettings settings, float p0, float... grads) {
        try (Backend b = CpuBackend.create()) {
            Tensor p = b.allocate(1);
            Tensor g = b.allocate(1);
            b.upload(new float[] {p0}, 0, p);
            Optimizer opt = Optimizer.create(settings, b, 1);
            float[] out = new float[grads.length];
            float[] host = new float[1];
            for (int s = 0; s < grads.length; s++) {
                b.upload(new float[] {grads[s]}, 0, g);
                opt.apply(p, g);
                b.download(p, host, 0);
                out[s] = host[0];
            }
            return out;
        }
    }

    @Test
    void nesterovMatchesTheHandComputedSteps() {
        // lr 0.5, momentum 0.9, p = 1. Step 1, g = 2: v = 2, p = 1 - 0.5 (2 + 0.9 * 2) = -0.9.
        // Step 2, g = 1: v = 0.9 * 2 + 1 = 2.8, p = -0.9 - 0.5 (1 + 0.9 * 2.8) = -2.66.
        float[] p = trace(OptimizerSettings.nesterov(0.5f, 0.9f), 1f, 2f, 1f);
        assertEquals(-0.9f, p[0], 1e-6f);
        assertEquals(-2.66f, p[1], 1e-5f);
    }

    @Test
    void nesterovWithoutMomentumIsPlainSgd() {
        float[] p = trace(OptimizerSettings.nesterov(0.25f, 0f), 1f, 2f, -4f);
        assertEquals(0.5f, p[0], 1e-7f);
        assertEquals(1.5f, p[1], 1e-7f);
    }

    @Test
    void adamwDecaysTheParametersApartFromTheGradient() {
        // A zero gradient leaves Adam's moments at zero, so Adam does not move; AdamW still decays
        // p by (1 - lr * weight-decay) = 0.95 per step.
        OptimizerSettings adamw = new OptimizerSettings(OptimizerSettings.Type.ADAMW, 0.1f, 0.9f, 0.9f, 0.999f, 1e-8f,
                0.5f);
        float[] p = trace(adamw, 1f, 0f, 0f);
        assertEquals(0.95f, p[0], 1e-6f);
        assertEquals(0.9025f, p[1], 1e-6f);
        OptimizerSettings adam = new OptimizerSettings(OptimizerSettings.Type.ADAM, 0.1f, 0.9f, 0.9f, 0.999f, 1e-8f,
                0.5f);
        assertEquals(1f, trace(adam, 1f, 0f, 0f)[1], 0f);
    }
}
