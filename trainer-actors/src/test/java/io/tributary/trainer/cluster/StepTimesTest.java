package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tributary.dataplane.DataPlaneMetrics;
import org.junit.jupiter.api.Test;

/** A trainer's step numbers: the metrics per pushed step, and the log's means over 100 steps. */
class StepTimesTest {

    @Test
    void everyHundredthStepGivesTheMeanTimesAndTheMetricsCountEachStep() {
        PrometheusRegistry registry = new PrometheusRegistry();
        TrainerMetrics metrics = new TrainerMetrics(registry, new DataPlaneMetrics(registry));
        StepTimes times = new StepTimes(metrics);
        float[] gradient = new float[10];
        for (int s = 0; s < 99; s++) {
            // 1 ms waiting, 2 ms computing each step; pushing 3 ms
            assertFalse(times.pushed(new GradientPush.Push(s, gradient, 0.5f, 32, 1_000_000, 2_000_000, 0, -1),
                    3_000_000, 4));
        }
        assertTrue(times.pushed(new GradientPush.Push(99, gradient, 0.5f, 32, 1_000_000, 2_000_000, 0, -1),
                3_000_000, 4));
        assertEquals(String.format("%.1f ms waiting for parameters, %.1f ms computing, %.1f ms pushing gradients",
                1.0, 2.0, 3.0), times.perStep());
        assertEquals(String.format("%.1f ms waiting for parameters, %.1f ms computing, %.1f ms pushing gradients",
                0.0, 0.0, 0.0), times.perStep(), "the sums start again");
        assertEquals(100, metrics.trainerSteps.get());
        assertEquals(3200, metrics.trainerSamples.get());
        assertEquals(4, metrics.trainerStaleness.get());
        assertEquals(100 * 4 * 10, metrics.bytesSent.labelValues("gradient").get());
    }
}
