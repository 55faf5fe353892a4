package io.tributary.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class WorkPlanTest {

    private static WorkPlan plan(long from, long to, int[] ranges, int[] trainers, int[] weights, boolean scale) {
        return new WorkPlan(1L, 0, 0, from, to, ranges, trainers, weights, scale, from + 8);
    }

    /** Every position of the plan's ranges lands in exactly one slice of one step, and nothing else does. */
    private static void assertEachPositionOnce(WorkPlan p) {
        BitSet seen = new BitSet();
        int[] out = new int[(int) p.length() + 1];
        long total = 0;
        for (long s = p.from(); s < p.to(); s++) {
            for (int i = 0; i < p.trainers().length; i++) {
                int n = p.sliceSize(i, s);
                long start = p.sliceStart(i, s);
                assertEquals(n, p.positions(start, start + n, out));
                for (int k = 0; k < n; k++) {
                    assertTrue(!seen.get(out[k]), "position " + out[k] + " served twice (step " + s + ", trainer " + i + ")");
                    seen.set(out[k]);
                }
                total += n;
            }
        }
        assertEquals(p.length(), total);
        BitSet want = new BitSet();
        for (int i = 0; i < p.ranges().length; i += 2) {
            want.set(p.ranges()[i], p.ranges()[i + 1]);
        }
        assertEquals(want, seen);
    }

    @Test
    void equalTrainersGetTheFixedPartitionsBatches() {
        // 4 trainers, batch 32, 10 steps: trainer i's slice of step j is positions j*128 + i*32 .. +32
        WorkPlan p = plan(0, 10, new int[] {0, 1280}, new int[] {0, 1, 2, 3}, new int[] {1000, 1000, 1000, 1000}, true);
        for (long s = 0; s < 10; s++) {
            for (int i = 0; i < 4; i++) {
                assertEquals(32, p.sliceSize(i, s));
                assertEquals(s * 128 + i * 32, p.sliceStart(i, s));
                assertEquals(1f, p.scale(i, s), "equal batches are not scaled");
            }
        }
        assertEachPositionOnce(p);
    }

    @Test
    void unequalWeightsAndScatteredRangesStillServeEachPositionOnce() {
        int[] ranges = {5, 17, 40, 41, 100, 1333, 2000, 2007};
        WorkPlan p = plan(37, 50, ranges, new int[] {0, 3, 9}, new int[] {1200, 350, 1450}, true);
        assertEachPositionOnce(p);
        // the windows differ by one sample at most
        long min = Long.MAX_VALUE;
        long max = 0;
        for (long s = 37; s < 50; s++) {
            long w = p.windowStart(s + 1) - p.windowStart(s);
            min = Math.min(min, w);
            max = Math.max(max, w);
        }
        assertTrue(max - min <= 1, min + ".." + max);
        // a slow trainer's smaller batch is scaled up less than the others': weighted mean over the samples
        long step = 40;
        double weighted = 0;
        int withBatch = 0;
        long window = p.windowStart(step + 1) - p.windowStart(step);
        for (int i = 0; i < 3; i++) {
            withBatch += p.sliceSize(i, step) > 0 ? 1 : 0;
        }
        for (int i = 0; i < 3; i++) {
            // mean over the contributions of scale_i * g_i, with each g_i = 1, is the weighted mean = 1
            weighted += p.scale(i, step) / withBatch;
        }
        assertEquals(1.0, weighted, 1e-5);
        assertTrue(p.sliceSize(1, step) < p.sliceSize(0, step) && p.sliceSize(0, step) < p.sliceSize(2, step));
        assertEquals(window, p.sliceSize(0, step) + p.sliceSize(1, step) + p.sliceSize(2, step));
    }

    @Test
    void aZeroWeightTrainerHasEmptyStepsAndTheRangesOfASliceAreFound() {
        WorkPlan p = plan(0, 4, new int[] {0, 10, 20, 30}, new int[] {0, 1}, new int[] {0, 1000}, false);
        for (long s = 0; s < 4; s++) {
            assertEquals(0, p.sliceSize(0, s));
            assertEquals(1f, p.scale(0, s));
        }
        assertEachPositionOnce(p);
        int[] out = new int[8];
        // virtual [8, 13) crosses from the first range into the second
        int n = p.rangesOf(8, 13, out, 0);
        assertEquals(4, n);
        assertEquals(8, out[0]);
        assertEquals(10, out[1]);
        assertEquals(20, out[2]);
        assertEquals(23, out[3]);
        // a following slice that continues the last range joins it
        n = p.rangesOf(13, 15, out, n);
        assertEquals(4, n);
        assertEquals(25, out[3]);
    }

    @Test
    void badPlansAreRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> plan(0, 4, new int[] {0, 10}, new int[] {0, 1}, new int[] {0, 0}, false));
        assertTrue(e.getMessage().contains("every weight is 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> plan(0, 4, new int[] {0}, new int[] {0}, new int[] {1}, false));
        assertTrue(e.getMessage().contains("pairs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> plan(5, 5, new int[] {0, 1}, new int[] {0}, new int[] {1}, false));
        assertTrue(e.getMessage().contains("not a valid span"), e.getMessage());
        WorkPlan p = plan(0, 4, new int[] {0, 10}, new int[] {0}, new int[] {1}, false);
        e = assertThrows(IllegalArgumentException.class, () -> p.sliceStart(0, 4));
        assertTrue(e.getMessage().contains("outside work plan"), e.getMessage());
    }
}
