package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tributary.kernels.Backend;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.model.Activation;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A local-SGD round against its definition: with plain SGD (no momentum) as the inner optimizer, the
 * pseudo-gradient of a round of H inner steps is {@code lr} times the sum of the H gradients, each
 * taken at the parameters the previous steps left, on the H consecutive parts of the batch.
 */
class ModelStepRoundTest {

    private static final ModelSpec SPEC = ModelSpec.of(Activation.Function.RELU, 6, 5, 3);
    private static final int FEATURES = 6;

    @Test
    void pseudoGradientIsTheSumOfTheInnerStepsUpdates() {
        int n = 8;
        int inner = 2;
        float lr = 0.1f;
        Random rnd = new Random(7);
        float[] x = new float[n * FEATURES];
        float[] y = new float[n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(3);
        }
        float[] start = Mlp.initialParameters(SPEC, 3);
        try (Backend b = CpuBackend.create()) {
            // reference: two plain gradient evaluations and host arithmetic
            Mlp ref = new Mlp(SPEC, b, n / inner);
            float[] params = start.clone();
            float[] expected = new float[start.length];
            float[] g = new float[start.length];
            for (int part = 0; part < inner; part++) {
                int from = part * (n / inner);
                b.upload(params, 0, ref.parameters());
                var in = b.allocate(n / inner * FEATURES);
                var labels = b.allocate(n / inner);
                float[] xs = java.util.Arrays.copyOfRange(x, from * FEATURES, (from + n / inner) * FEATURES);
                float[] ys = java.util.Arrays.copyOfRange(y, from, from + n / inner);
                b.upload(xs, 0, in);
                b.upload(ys, 0, labels);
                ref.computeGradients(in, labels, n / inner);
                b.download(ref.gradients(), g, 0);
                for (int i = 0; i < g.length; i++) {
                    expected[i] += lr * g[i];
                    params[i] -= lr * g[i];
                }
            }

            ModelStep step = new ModelStep(SPEC, b, n / inner);
            step.innerOptimizer(OptimizerSettings.sgd(lr, 0f), b);
            float[] pseudo = new float[start.length];
            step.round(b, start, x, y, n, inner, pseudo);
            assertArrayEquals(expected, pseudo, 1e-6f);
        }
    }

    @Test
    void theInnerOptimizerKeepsItsStateFromRoundToRound() {
        // SGD with momentum 0.5 on the same one-sample batch: round 2 moves further than round 1 from the
        // same start, since the velocity carries over.
        float[] x = {1, -1, 0.5f, 2, 0, -0.5f};
        float[] y = {2};
        float[] start = Mlp.initialParameters(SPEC, 5);
        try (Backend b = CpuBackend.create()) {
            ModelStep step = new ModelStep(SPEC, b, 1);
            step.innerOptimizer(OptimizerSettings.sgd(0.05f, 0.5f), b);
            float[] first = new float[start.length];
            float[] second = new float[start.length];
            step.round(b, start, x, y, 1, 1, first);
            step.round(b, start, x, y, 1, 1, second);
            // same gradient g both times: round 1 moves lr g, round 2 lr (0.5 g + g)
            for (int i = 0; i < first.length; i++) {
                assertEquals(1.5f * first[i], second[i], 1e-6f + 1e-5f * Math.abs(second[i]));
            }
        }
    }

    @Test
    void aRoundNeedsTheInnerOptimizer() {
        try (Backend b = CpuBackend.create()) {
            ModelStep step = new ModelStep(SPEC, b, 4);
            float[] p = Mlp.initialParameters(SPEC, 1);
            assertThrows(IllegalStateException.class, () -> step.round(b, p, new float[4 * FEATURES], new float[4], 4, 1,
                    new float[p.length]));
        }
    }

    @Test
    void aBatchThatDoesNotDivideEvenlyStillTakesExactlyInnerStepsSteps() {
        // 2,185 samples in 52 steps: 1 part of 43 and 51 of 42 (a ceil(n / H) cut would take 51 steps)
        try (Backend b = CpuBackend.create()) {
            int n = 2185;
            ModelStep step = new ModelStep(SPEC, b, 43);
            step.innerOptimizer(OptimizerSettings.sgd(0.01f, 0f), b);
            float[] p = Mlp.initialParameters(SPEC, 1);
            step.round(b, p, new float[n * FEATURES], new float[n], n, 52, new float[p.length]);
            assertEquals(52, step.innerStepsTaken());
            step.round(b, p, new float[53 * FEATURES], new float[53], 53, 52, new float[p.length]);
            assertEquals(52 + 52, step.innerStepsTaken(), "53 samples: one part of 2 and 51 of 1");
        }
    }
}
