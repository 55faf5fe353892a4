package io.tributary.ps.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tributary.dataplane.ContributionSlots;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class StepAggregationTest {

    private static ShardSettings settings(String hocon) {
        return ShardSettings.from(ConfigFactory.parseString("tributary.cluster.shards = 1\n" + hocon)
                .withFallback(ConfigFactory.load()));
    }

    private static long crc(float[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        CRC32 c = new CRC32();
        c.update(b.array());
        return c.getValue();
    }

    @Test
    void theMeanRuleAveragesTheAcceptedSlotsAndRejectsANonFiniteOne() {
        ShardSettings settings = settings("tributary.trust.mode = trusted");
        ContributionSlots slots = new ContributionSlots(3, settings.maxTrainers(), (t, s) -> { });
        StepAggregation agg = new StepAggregation(0, settings, slots,
                LoggerFactory.getLogger("test"));
        System.arraycopy(new float[] {1f, 2f, 3f}, 0, slots.slot(0), 0, 3);
        System.arraycopy(new float[] {3f, 4f, 5f}, 0, slots.slot(2), 0, 3);
        System.arraycopy(new float[] {Float.NaN, 0f, 0f}, 0, slots.slot(1), 0, 3);
        int[] updates = {0};
        StepAggregation.Verdicts v = agg.close(List.of(0, 2, 1), 5, () -> updates[0]++);
        assertEquals(1, updates[0], "one update for the step");
        assertTrue(v.aggregated());
        // by hand: the mean of (1,2,3) and (3,4,5)
        float[] g = new float[3];
        io.tributary.kernels.cpu.CpuBackend.create().download(agg.gradient(), g, 0);
        assertArrayEquals(new float[] {2f, 3f, 4f}, g, 1e-6f);
        assertEquals(Set.of(1), v.rejected());
        assertEquals(Set.of(), v.outliers());
        assertEquals(Set.of(0, 1, 2), v.checksums().keySet());
        assertEquals(crc(new float[] {3f, 4f, 5f}), v.checksums().get(2), "CRC32 of the slot's little-endian floats");
    }

    @Test
    void aStepWithEveryContributionRejectedAppliesNothing() {
        ShardSettings settings = settings("tributary.trust.max-gradient-norm = 1.0");
        ContributionSlots slots = new ContributionSlots(2, settings.maxTrainers(), (t, s) -> { });
        StepAggregation agg = new StepAggregation(0, settings, slots,
                LoggerFactory.getLogger("test"));
        System.arraycopy(new float[] {3f, 4f}, 0, slots.slot(0), 0, 2); // norm 5 > 1
        StepAggregation.Verdicts v = agg.close(List.of(0), 9, () -> {
            throw new AssertionError("nothing to apply");
        });
        assertFalse(v.aggregated());
        assertEquals(Set.of(0), v.rejected());
        assertFalse(agg.admit(0, 9));
    }
}
