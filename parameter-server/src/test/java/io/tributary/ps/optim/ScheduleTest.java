package io.tributary.ps.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.shard.ShardSettings;
import org.junit.jupiter.api.Test;

/** The learning-rate schedule, AdamW's decay ranges and clipping, and a shard's share of the decay ranges. */
class ScheduleTest {

    @Test
    void theRateWarmsUpLinearlyThenFollowsTheCosineToItsFloor() {
        Schedule s = new Schedule(100, 2000, 1e-4f, 1f);
        assertEquals(1e-3 / 101, s.learningRate(1e-3f, 0), 1e-9);
        assertEquals(1e-3, s.learningRate(1e-3f, 100), 1e-9);
        assertEquals(5.5e-4, s.learningRate(1e-3f, 1050), 1e-8, "half-way: the mean of peak and floor");
        assertEquals(1e-4, s.learningRate(1e-3f, 2000), 1e-9);
        assertEquals(0.01f, Schedule.NONE.learningRate(0.01f, 12345), 0f, "no schedule: constant");
        assertThrows(IllegalArgumentException.class, () -> new Schedule(10, 5, 0f, 0f), "decay before warm-up ends");
    }

    @Test
    void adamWDecaysOnlyItsRangesAndClipsTheGradientToTheNorm() {
        try (Backend b = CpuBackend.create()) {
            float[] start = {1, 2, 3, 4, 5, 6};
            Tensor p = b.allocate(6);
            b.upload(start, 0, p);
            Tensor g = b.allocate(6); // zero gradient: Adam moves nothing, only the decay acts
            OptimizerSettings adamw = new OptimizerSettings(OptimizerSettings.Type.ADAMW, 0.5f, 0.9f, 0.9f, 0.99f, 1e-8f,
                    0.1f);
            Optimizer opt = Optimizer.create(adamw, Schedule.NONE, b, 6, new int[] {1, 3, 5, 6}, 0f);
            opt.apply(p, g);
            float[] after = new float[6];
            b.download(p, after, 0);
            float keep = 1 - 0.5f * 0.1f;
            assertArrayEquals(new float[] {1, 2 * keep, 3 * keep, 4, 5, 6 * keep}, after, 1e-6f);

            Optimizer clipped = Optimizer.create(adamw, new Schedule(0, 0, 0f, 0f), b, 6, null, 2f);
            b.upload(new float[] {3, 0, 4, 0, 0, 0}, 0, g); // norm 5
            clipped.apply(p, g);
            assertEquals(2f, b.norm2(g), 1e-5f, "scaled down to the clip norm");
            b.upload(new float[] {0.3f, 0, 0.4f, 0, 0, 0}, 0, g);
            clipped.apply(p, g);
            assertEquals(0.5f, b.norm2(g), 1e-6f, "below the norm: untouched");
        }
    }

    @Test
    void aScheduleOrClipOnSgdIsRefusedSayingItIsAdamOnly() {
        try (Backend b = CpuBackend.create()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Optimizer.create(OptimizerSettings.sgd(0.1f, 0.9f), new Schedule(10, 0, 0f, 0f), b, 4, null, 0f));
            assertEquals(true, e.getMessage().contains("adam"), e.getMessage());
        }
    }

    @Test
    void aShardTakesTheDecayRangesThatFallInItsSliceRelativeToIt() {
        com.typesafe.config.Config c = com.typesafe.config.ConfigFactory.load();
        ShardSettings all = ShardSettings.from(c);
        assertEquals(null, all.decayRangesWithin(10, 5), "no ranges: everything decays");
        ShardSettings s = all.withDecayRanges(new int[] {0, 4, 6, 20, 30, 31});
        assertArrayEquals(new int[] {0, 1, 3, 8}, s.decayRangesWithin(3, 5 + 3), "[3, 11): 3 of the first, 6..11");
        assertArrayEquals(new int[] {}, s.decayRangesWithin(20, 10), "[20, 30) lies between ranges");
        assertArrayEquals(new int[] {0, 1}, s.decayRangesWithin(30, 4));
    }
}
