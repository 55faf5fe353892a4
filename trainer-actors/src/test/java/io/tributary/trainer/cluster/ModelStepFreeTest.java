package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.model.Activation;
import io.tributary.trainer.model.ModelSpec;
import org.junit.jupiter.api.Test;

/**
 * A trainer's model gives its tensors back: counted on the CPU backend, which counts what a GPU
 * would hold. For 6-5-3 (dense, activation, dense) the model holds, by hand: parameters, gradients,
 * the logit gradient and the predictions (4), two buffers per dense layer (4) and per activation
 * (2), and the step's input and labels (2): 12; local SGD's inner SGD adds its velocity: 13.
 */
class ModelStepFreeTest {

    private static final ModelSpec SPEC = ModelSpec.of(Activation.Function.RELU, 6, 5, 3);
    private static final int ONE_MODEL = 12;

    @Test
    void aModelReplacedByALargerOneAndAModelFreedLeaveNoTensorBehind() {
        try (CpuBackend b = CpuBackend.create()) {
            ModelStep m = new ModelStep(SPEC, b, 4);
            assertEquals(ONE_MODEL, b.liveTensors());
            m.grow(9, b);
            m.grow(17, b);
            assertEquals(ONE_MODEL, b.liveTensors(), "grown twice: the old buffers are freed");
            m.innerOptimizer(OptimizerSettings.sgd(0.1f, 0.9f), b);
            m.innerOptimizer(OptimizerSettings.sgd(0.1f, 0.9f), b);
            assertEquals(ONE_MODEL + 1, b.liveTensors(), "one inner optimizer's velocity");
            for (int restart = 0; restart < 20; restart++) {
                m.free();
                m = new ModelStep(SPEC, b, 4);
            }
            assertEquals(ONE_MODEL, b.liveTensors(), "after 20 restarts: one model");
            m.free();
            assertEquals(0, b.liveTensors());
        }
    }

    @Test
    void aModelDoesNotMoveToAnotherBackend() {
        try (CpuBackend b = CpuBackend.create(); CpuBackend other = CpuBackend.create()) {
            ModelStep m = new ModelStep(SPEC, b, 4);
            assertThrows(IllegalStateException.class, () -> m.grow(8, other));
            m.free();
            assertEquals(0, b.liveTensors());
        }
    }
}
