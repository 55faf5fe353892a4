package io.tributary.ps.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each rule against a float64 reference on random data, the robust rules against one sign-flipping
 * trainer, and no allocation per call. Random data comes from {@link #SEED}, named in every failure.
 */
@Timeout(60)
class AggregationRulesTest {

    static final long SEED = 0x7121_B07AL;
    private static final int MAX_TRAINERS = 16;
    private static final int[] LENGTHS = {1, 7, 33, 1000, 4099};

    // ---- agreement with a float64 reference ------------------------------------------------------

    @Test
    void meanMatchesFloat64Reference() {
        Random r = new Random(SEED);
        for (int length : LENGTHS) {
            for (int count = 1; count <= MAX_TRAINERS; count += 3) {
                Case c = Case.random(r, count, length);
                float[] out = new float[length];
                new Mean(MAX_TRAINERS, length).aggregate(c.slots, c.which, count, length, out);
                assertClose(Reference.mean(c), out, 1e-6, "mean", c);
            }
        }
    }

    @Test
    void meanIsBitIdenticalToTheFormerZeroFillAxpyScaleAverage() {
        Random r = new Random(SEED + 1);
        Case c = Case.random(r, 5, 4099);
        c.slots[c.which[0]][3] = -0f;
        c.slots[c.which[1]][3] = -0f;
        float[] old = new float[c.length];
        for (int t = 0; t < c.count; t++) {
            float[] s = c.slots[c.which[t]];
            for (int i = 0; i < c.length; i++) {
                old[i] += 1f * s[i];
            }
        }
        float scale = 1f / c.count;
        for (int i = 0; i < c.length; i++) {
            old[i] *= scale;
        }
        float[] out = new float[c.length];
        new Mean(MAX_TRAINERS, c.length).aggregate(c.slots, c.which, c.count, c.length, out);
        for (int i = 0; i < c.length; i++) {
            assertEquals(Float.floatToRawIntBits(old[i]), Float.floatToRawIntBits(out[i]),
                    "element " + i + " (seed " + SEED + ")");
        }
    }

    @Test
    void trimmedMeanMatchesFloat64Reference() {
        Random r = new Random(SEED + 2);
        for (float f : new float[] {0f, 0.1f, 0.2f, 0.49f}) {
            for (int length : LENGTHS) {
                for (int count = 1; count <= MAX_TRAINERS; count += 2) {
                    Case c = Case.random(r, count, length);
                    float[] out = new float[length];
                    TrimmedMean rule = new TrimmedMean(f, MAX_TRAINERS, length);
                    rule.aggregate(c.slots, c.which, count, length, out);
                    assertTrue(count > 2 * rule.trimmed(count));
                    assertClose(Reference.trimmedMean(c, (int) Math.floor(f * count)), out, 1e-6,
                            "trimmed mean f=" + f, c);
                }
            }
        }
    }

    @Test
    void trimmedMeanDropsKAtEachEndPerCoordinate() {
        // T = 5, f = 0.2: k = 1, so per coordinate the largest and the smallest value go.
        float[][] slots = {{1, 50}, {2, -40}, {3, 1}, {100, 2}, {-7, 3}};
        float[] out = new float[2];
        new TrimmedMean(0.2f, 5, 2).aggregate(slots, new int[] {0, 1, 2, 3, 4}, 5, 2, out);
        assertEquals((1 + 2 + 3) / 3f, out[0], 1e-6);
        assertEquals((1 + 2 + 3) / 3f, out[1], 1e-6);
    }

    @Test
    void medianMatchesFloat64Reference() {
        Random r = new Random(SEED + 3);
        for (int length : LENGTHS) {
            for (int count = 1; count <= MAX_TRAINERS; count++) {
                Case c = Case.random(r, count, length);
                float[] out = new float[length];
                new CoordinateMedian(MAX_TRAINERS, length).aggregate(c.slots, c.which, count, length, out);
                assertClose(Reference.median(c), out, 1e-6, "median", c);
            }
        }
    }

    @Test
    void centeredClippingMatchesFloat64ReferenceOverSteps() {
        Random r = new Random(SEED + 4);
        for (int length : LENGTHS) {
            for (int count : new int[] {1, 2, 5, 16}) {
                // Radii from "clips everyone" to "clips no one" (the slots' norms are about sqrt(length)).
                // Every third case: auto (the median distance each iteration).
                float tau = count % 3 == 2 ? AggregationSettings.AUTO_TAU
                        : (float) ((0.05 + 3 * r.nextDouble()) * Math.sqrt(length));
                int iterations = 1 + r.nextInt(5);
                float momentum = r.nextBoolean() ? 0f : 0.9f;
                CenteredClipping rule = new CenteredClipping(tau, iterations, momentum, MAX_TRAINERS, length);
                Reference.Clipping reference = new Reference.Clipping(tau, iterations, momentum, MAX_TRAINERS, length);
                for (int step = 0; step < 4; step++) {
                    Case c = Case.random(r, count, length);
                    float[] out = new float[length];
                    rule.aggregate(c.slots, c.which, count, length, out);
                    assertClose(reference.step(c), out, 2e-5, "centered clipping tau=" + tau + " L=" + iterations
                            + " momentum=" + momentum + " step " + step, c);
                }
            }
        }
    }

    @Test
    void centeredClippingMovesAtMostTauPerIteration() {
        float[][] slots = {{1000f, 0f}};
        float[] out = new float[2];
        new CenteredClipping(2f, 3, 0f, 1, 2).aggregate(slots, new int[] {0}, 1, 2, out);
        assertEquals(6f, out[0], 1e-5);
        assertEquals(0f, out[1], 0f);
    }

    // ---- robustness: one of five trainers sends -100 x its gradient ----------------------------------

    @Test
    void robustRulesStayNearTheHonestMeanWhenOneOfFiveTrainersFlipsAndScales() {
        int length = 1000;
        int trainers = 5;
        Random r = new Random(SEED + 5);
        float[] base = new float[length];
        for (int i = 0; i < length; i++) {
            base[i] = (float) r.nextGaussian();
        }
        double baseNorm = Reference.norm(base);
        // Honest trainers differ from the common gradient by noise of norm about 0.1 * |base|.
        float honestSpread = (float) (0.1 * baseNorm);
        AggregationRule[] rules = {
            new Mean(trainers, length),
            new TrimmedMean(0.2f, trainers, length),
            new CoordinateMedian(trainers, length),
            new CenteredClipping(honestSpread, 3, 0.9f, trainers, length),
            new CenteredClipping(AggregationSettings.AUTO_TAU, 3, 0f, trainers, length),
        };
        double[] lastDistance = new double[rules.length];
        int steps = 30;
        for (int step = 0; step < steps; step++) {
            float[][] slots = new float[trainers][length];
            for (int t = 0; t < trainers; t++) {
                for (int i = 0; i < length; i++) {
                    slots[t][i] = base[i] + (float) (0.1 * r.nextGaussian());
                }
            }
            double[] honestMean = new double[length];
            for (int t = 0; t < trainers - 1; t++) {
                for (int i = 0; i < length; i++) {
                    honestMean[i] += slots[t][i] / (double) (trainers - 1);
                }
            }
            for (int i = 0; i < length; i++) {
                slots[trainers - 1][i] *= -100f; // the Byzantine trainer: its own gradient, sign-flipped and scaled
            }
            for (int k = 0; k < rules.length; k++) {
                float[] out = new float[length];
                rules[k].aggregate(slots, new int[] {0, 1, 2, 3, 4}, trainers, length, out);
                lastDistance[k] = Reference.distance(out, honestMean) / baseNorm;
            }
        }
        String where = " relative to |honest mean| after " + steps + " steps (seed " + SEED + "): "
                + Arrays.toString(lastDistance);
        assertTrue(lastDistance[0] > 5, "mean should be dragged far away" + where);
        assertTrue(lastDistance[1] < 0.1, "trimmed mean" + where);
        assertTrue(lastDistance[2] < 0.1, "median" + where);
        assertTrue(lastDistance[3] < 0.1, "centered clipping" + where);
        assertTrue(lastDistance[4] < 0.1, "centered clipping, auto tau, no momentum" + where);
    }

    // ---- argument checks and allocation -------------------------------------------------------------

    @Test
    void rulesRejectCountsAndLengthsBeyondWhatTheyWereBuiltFor() {
        float[][] slots = new float[2][8];
        float[] out = new float[8];
        Mean mean = new Mean(2, 8);
        assertThrows(IllegalArgumentException.class, () -> mean.aggregate(slots, new int[] {0, 1, 0}, 3, 8, out));
        assertThrows(IllegalArgumentException.class, () -> mean.aggregate(slots, new int[] {0}, 0, 8, out));
        assertThrows(IllegalArgumentException.class, () -> mean.aggregate(slots, new int[] {0}, 1, 9, out));
        assertThrows(IllegalArgumentException.class, () -> mean.aggregate(slots, new int[] {0}, 1, 8, slots[0]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TrimmedMean(0.5f, 4, 8));
        assertTrue(e.getMessage().contains("tributary.trust.trim-fraction"), e.getMessage());
    }

    @Test
    void rulesAllocateNothingPerCallOnceWarm() {
        int length = 4096;
        int count = 5;
        Case c = Case.random(new Random(SEED + 6), count, length);
        float[] out = new float[length];
        AggregationRule[] rules = {
            new Mean(MAX_TRAINERS, length),
            new TrimmedMean(0.2f, MAX_TRAINERS, length),
            new CoordinateMedian(MAX_TRAINERS, length),
            new CenteredClipping(10f, 3, 0.9f, MAX_TRAINERS, length),
        };
        for (AggregationRule rule : rules) {
            long allocated = Allocation.perThousandCalls(() -> rule.aggregate(c.slots, c.which, count, length, out));
            assertTrue(allocated <= Allocation.ALLOWED_BYTES,
                    rule.name() + " allocated " + allocated + " bytes over 1000 calls");
        }
    }

    private static void assertClose(double[] expected, float[] actual, double relTolerance, String what, Case c) {
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (err > relTolerance * (1 + scale)) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", float64 reference "
                        + expected[i] + " (T=" + c.count + ", n=" + c.length + ", seed " + SEED + ")");
            }
        }
    }

    /** Random slots for {@code count} of {@link #MAX_TRAINERS} trainers, in random order, of varied scales. */
    record Case(float[][] slots, int[] which, int count, int length) {
        static Case random(Random r, int count, int length) {
            float[][] slots = new float[MAX_TRAINERS][length];
            int[] order = new int[MAX_TRAINERS];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            for (int i = order.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
            for (int t = 0; t < MAX_TRAINERS; t++) {
                double scale = 0.1 + 2 * r.nextDouble();
                double shift = r.nextGaussian() * 0.5;
                for (int i = 0; i < length; i++) {
                    slots[t][i] = (float) (shift + scale * r.nextGaussian());
                }
            }
            return new Case(slots, Arrays.copyOf(order, count), count, length);
        }
    }
}
