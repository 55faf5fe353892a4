package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class AdaptiveBatchesTest {

    @Test
    void aTrainerTwiceAsSlowGetsHalfTheWeightOfTheOther() {
        // by hand: mean time 15 ms; raw 1000*15/10 = 1500 and 1000*15/20 = 750, sum 2250;
        // normalized to 2000 in all: 1500*2000/2250 = 1333.3 and 750*2000/2250 = 666.7
        assertArrayEquals(new int[] {1333, 667}, AdaptiveBatches.reweigh(new int[] {1000, 1000},
                new double[] {10e6, 20e6}, 0.25));
    }

    @Test
    void theSlowestIsHeldAtTheFloor() {
        // times 10, 10, 100 ms: raw 4000, 4000, 400 of 8400, normalized to 3000: 1428.6, 1428.6, 142.9 -> floor 250
        assertArrayEquals(new int[] {1429, 1429, 250}, AdaptiveBatches.reweigh(new int[] {1000, 1000, 1000},
                new double[] {10e6, 10e6, 100e6}, 0.25));
    }

    @Test
    void smallMovesAndUnmeasuredOrLoneTrainersChangeNothing() {
        // 10 vs 12 ms: 1091 and 909, both within a fifth of 1000
        assertNull(AdaptiveBatches.reweigh(new int[] {1000, 1000}, new double[] {10e6, 12e6}, 0.25));
        assertNull(AdaptiveBatches.reweigh(new int[] {1000, 1000}, new double[] {10e6, 0}, 0.25));
        assertNull(AdaptiveBatches.reweigh(new int[] {1000}, new double[] {10e6}, 0.25));
        assertThrows(IllegalArgumentException.class, () -> AdaptiveBatches.reweigh(new int[] {1000, 1000},
                new double[] {1}, 0.25));
    }

    @Test
    void weightsSettleOnceTheStepsTakeEquallyLong() {
        // after the first re-weighing the times even out (each time scales with its batch): no further change
        int[] w = AdaptiveBatches.reweigh(new int[] {1000, 1000}, new double[] {10e6, 20e6}, 0.25);
        double t0 = 10e6 * w[0] / 1000.0;
        double t1 = 20e6 * w[1] / 1000.0;
        assertNull(AdaptiveBatches.reweigh(w, new double[] {t0, t1}, 0.25));
    }
}
