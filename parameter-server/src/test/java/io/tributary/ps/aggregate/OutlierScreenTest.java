package io.tributary.ps.aggregate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class OutlierScreenTest {

    private static final long SEED = 20261126L;

    /** Five trainers: four honest around a common gradient, the fifth as given; median as the aggregate. */
    private static boolean[] screen(float attackerFactor, float outlierFactor, long seed) {
        int length = 500;
        int trainers = 5;
        Random r = new Random(seed);
        float[] base = new float[length];
        for (int i = 0; i < length; i++) {
            base[i] = (float) r.nextGaussian();
        }
        float[][] slots = new float[trainers][length];
        for (int t = 0; t < trainers; t++) {
            for (int i = 0; i < length; i++) {
                // honest noise about as large as the gradient itself (small batches)
                slots[t][i] = base[i] + (float) r.nextGaussian();
            }
        }
        for (int i = 0; i < length; i++) {
            slots[trainers - 1][i] *= attackerFactor;
        }
        int[] which = {0, 1, 2, 3, 4};
        float[] aggregate = new float[length];
        new CoordinateMedian(trainers, length).aggregate(slots, which, trainers, length, aggregate);
        boolean[] outlier = new boolean[trainers];
        new OutlierScreen(outlierFactor, trainers).screen(slots, which, trainers, length, aggregate, outlier);
        return outlier;
    }

    @Test
    void aScaledOrFlippedAndScaledTrainerIsAnOutlierAndNoHonestOneIs() {
        for (long s = 0; s < 20; s++) {
            assertArrayEquals(new boolean[] {false, false, false, false, true}, screen(-100f, 3f, SEED + s), "seed " + (SEED + s));
            assertArrayEquals(new boolean[] {false, false, false, false, true}, screen(100f, 3f, SEED + s), "seed " + (SEED + s));
            assertArrayEquals(new boolean[5], screen(1f, 3f, SEED + s), "all honest, seed " + (SEED + s));
        }
    }

    @Test
    void offOrTooFewTrainersMarksNobody() {
        assertArrayEquals(new boolean[5], screen(-100f, 0f, SEED));
        boolean[] outlier = {true, true};
        float[][] slots = {{0f}, {1000f}};
        assertEquals(0, new OutlierScreen(3f, 2).screen(slots, new int[] {0, 1}, 2, 1, new float[] {0f}, outlier));
        assertArrayEquals(new boolean[2], outlier);
        assertThrows(IllegalArgumentException.class, () -> new OutlierScreen(0.5f, 2));
    }
}
