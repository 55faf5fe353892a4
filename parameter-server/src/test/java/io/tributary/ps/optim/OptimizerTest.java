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
}
