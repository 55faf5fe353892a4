package io.tributary.ps.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BiasScreenTest {

    private static final int LENGTH = 4000;
    private static final int TRAINERS = 5;

    /**
     * Five trainers over {@code steps} steps: a true gradient that drifts slowly, honest slices with
     * sampling noise as large as the gradient, and (if {@code lieZ >= 0}) trainer 4 attacking like the
     * little-is-enough trainer of this project: running mean minus z running deviations of its own
     * gradients. The aggregate is the mean of the slices not left out. Returns the step at which each
     * trainer first became a suspect, -1 if never.
     */
    private static int[] run(double lieZ, int steps, long seed) {
        Random r = new Random(seed);
        BiasScreen screen = new BiasScreen(0.3f, 10, TRAINERS, LENGTH);
        float[] truth = new float[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            truth[i] = (float) r.nextGaussian();
        }
        float[] mean = new float[LENGTH];
        float[] meanSq = new float[LENGTH];
        float[][] slots = new float[TRAINERS][LENGTH];
        float[] aggregate = new float[LENGTH];
        int[] first = {-1, -1, -1, -1, -1};
        for (int step = 0; step < steps; step++) {
            for (int i = 0; i < LENGTH; i++) {
                truth[i] = 0.99f * truth[i] + 0.14f * (float) r.nextGaussian();
            }
            for (int t = 0; t < TRAINERS; t++) {
                for (int i = 0; i < LENGTH; i++) {
                    slots[t][i] = truth[i] + (float) r.nextGaussian();
                }
            }
            if (lieZ >= 0) {
                float keep = step == 0 ? 0f : 0.9f;
                for (int i = 0; i < LENGTH; i++) {
                    float g = slots[4][i];
                    mean[i] = keep * mean[i] + (1 - keep) * g;
                    meanSq[i] = keep * meanSq[i] + (1 - keep) * g * g;
                    float sigma = (float) Math.sqrt(Math.max(0f, meanSq[i] - mean[i] * mean[i]));
                    slots[4][i] = mean[i] - (float) lieZ * sigma;
                }
            }
            int[] which = new int[TRAINERS];
            int count = 0;
            for (int t = 0; t < TRAINERS; t++) {
                if (!screen.suspect(t)) {
                    which[count++] = t;
                }
            }
            new Mean(TRAINERS, LENGTH).aggregate(slots, which, count, LENGTH, aggregate);
            for (int t = 0; t < TRAINERS; t++) {
                screen.observe(t, slots[t], aggregate);
            }
            int nominated = screen.nominate(which, count);
            if (nominated >= 0 && first[nominated] < 0) {
                first[nominated] = step;
            }
        }
        return first;
    }

    /** One step of one trainer: screened, then nominated if it leans. */
    private static void step(BiasScreen screen, int trainer, float[] x, float[] aggregate) {
        screen.observe(trainer, x, aggregate);
        screen.nominate(new int[] {trainer}, 1);
    }

    @Test
    void onlyTheMostConsistentTrainerBecomesASuspectInOneStep() {
        BiasScreen screen = new BiasScreen(0.3f, 1, 2, 100);
        float[] aggregate = new float[100];
        float[] strong = new float[100];
        float[] weak = new float[100];
        Random r = new Random(5);
        for (int step = 0; step < 5; step++) {
            for (int i = 0; i < 100; i++) {
                strong[i] = 1f + 0.1f * (float) r.nextGaussian();
                weak[i] = 0.5f + 0.5f * (float) r.nextGaussian();
            }
            screen.observe(0, strong, aggregate);
            screen.observe(1, weak, aggregate);
        }
        assertTrue(screen.consistency(1) > 0.3, "both lean: " + screen.consistency(1));
        assertEquals(0, screen.nominate(new int[] {0, 1}, 2));
        assertTrue(screen.suspect(0));
        assertFalse(screen.suspect(1), "one new suspect per step");
    }

    @Test
    void littleIsEnoughIsLeftOutWithinTwentyStepsAndHonestTrainersNever() {
        for (long seed = 1; seed <= 3; seed++) {
            int[] first = run(0.2533, 300, seed);
            assertTrue(first[4] >= 10 && first[4] <= 20, "attacker first suspected at step " + first[4]);
            for (int t = 0; t < 4; t++) {
                assertEquals(-1, first[t], "honest trainer " + t + " suspected, seed " + seed);
            }
        }
    }

    @Test
    void noHonestTrainerIsSuspectedInACleanRun() {
        for (long seed = 1; seed <= 3; seed++) {
            int[] first = run(-1, 400, seed);
            for (int t = 0; t < TRAINERS; t++) {
                assertEquals(-1, first[t], "trainer " + t + ", seed " + seed);
            }
        }
    }

    @Test
    void aTrainerThatStopsLeaningIsReadmittedAndResetForgets() {
        BiasScreen screen = new BiasScreen(0.3f, 3, 2, 100);
        Random r = new Random(7);
        float[] aggregate = new float[100];
        float[] x = new float[100];
        for (int step = 0; step < 20; step++) {
            for (int i = 0; i < 100; i++) {
                x[i] = 1f + 0.1f * (float) r.nextGaussian();
            }
            step(screen, 0, x, aggregate);
        }
        assertTrue(screen.suspect(0));
        for (int step = 0; step < 60; step++) {
            for (int i = 0; i < 100; i++) {
                x[i] = (float) r.nextGaussian();
            }
            step(screen, 0, x, aggregate);
        }
        assertFalse(screen.suspect(0), "consistency " + screen.consistency(0));
        for (int step = 0; step < 20; step++) {
            java.util.Arrays.fill(x, 1f);
            step(screen, 1, x, aggregate);
        }
        assertTrue(screen.suspect(1));
        screen.reset(1);
        assertFalse(screen.suspect(1));
        assertEquals(0, screen.seen(1));
    }

    @Test
    void aSuspectHoveringJustUnderTheThresholdStaysOut() {
        BiasScreen screen = new BiasScreen(0.3f, 3, 1, 200);
        Random r = new Random(11);
        float[] aggregate = new float[200];
        float[] x = new float[200];
        // a strong lean first, then a weaker one whose consistency settles between 0.15 and 0.3
        double settled = 0;
        for (int step = 0; step < 200; step++) {
            float lean = step < 20 ? 1f : 0.06f;
            for (int i = 0; i < 200; i++) {
                x[i] = lean + 0.2f * (float) r.nextGaussian();
            }
            step(screen, 0, x, aggregate);
            if (step == 19) {
                assertTrue(screen.suspect(0), "consistency " + screen.consistency(0));
            }
            settled = screen.consistency(0);
        }
        assertTrue(settled > screen.release() && settled < 0.3, "the test's lean settles between: " + settled);
        assertTrue(screen.suspect(0), "taken back at consistency " + settled);
        assertFalse(new BiasScreen(0.3f, 3, 1, 200).suspect(0));
    }

    @Test
    void offDoesNothingAndBadSettingsAreRefused() {
        BiasScreen off = new BiasScreen(0f, 10, 2, 10);
        assertFalse(off.enabled());
        float[] x = new float[10];
        java.util.Arrays.fill(x, 5f);
        for (int i = 0; i < 50; i++) {
            assertFalse(off.observe(0, x, new float[10]));
        }
        assertThrows(IllegalArgumentException.class, () -> new BiasScreen(1f, 10, 2, 10));
        assertThrows(IllegalArgumentException.class, () -> new BiasScreen(-0.1f, 10, 2, 10));
        assertThrows(IllegalArgumentException.class, () -> new BiasScreen(0.3f, 0, 2, 10));
    }

    @Test
    void screeningAllocatesNothingPerStep() {
        BiasScreen screen = new BiasScreen(0.3f, 10, 1, 5000);
        float[] x = new float[5000];
        float[] aggregate = new float[5000];
        Random r = new Random(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        long allocated = Allocation.perThousandCalls(() -> screen.observe(0, x, aggregate));
        assertTrue(allocated <= Allocation.ALLOWED_BYTES, allocated + " bytes per 1000 steps");
    }
}
