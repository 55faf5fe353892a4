package io.tributary.ps.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.ps.aggregate.ContributionCheck.Verdict;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ContributionCheckTest {

    private static final long SEED = AggregationRulesTest.SEED;

    private static float[] random(Random r, int length) {
        float[] g = new float[length];
        for (int i = 0; i < length; i++) {
            g[i] = (float) r.nextGaussian();
        }
        return g;
    }

    @Test
    void finiteSlotsWithinTheBoundAreAcceptedWithTheirNorm() {
        Random r = new Random(SEED);
        for (int length : new int[] {0, 1, 15, 4096, 4097, 100_003}) {
            float[] g = random(r, length);
            ContributionCheck check = new ContributionCheck(0);
            assertEquals(Verdict.ACCEPTED, check.check(g, length));
            double expected = Reference.norm(g);
            assertEquals(expected, check.norm(), 1e-5 * (1 + expected), "n=" + length + " (seed " + SEED + ")");
        }
    }

    @Test
    void aNaNOrAnInfinityAnywhereIsRejected() {
        Random r = new Random(SEED + 1);
        int length = 10_001;
        ContributionCheck check = new ContributionCheck(0);
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            // first element, inside a vector block, at a block edge, in the scalar tail
            for (int at : new int[] {0, 17, 4095, 4096, length - 1}) {
                float[] g = random(r, length);
                g[at] = bad;
                assertEquals(Verdict.NON_FINITE, check.check(g, length), bad + " at " + at);
                assertTrue(Double.isNaN(check.norm()));
            }
        }
    }

    @Test
    void slotsOverTheNormBoundAreRejected() {
        float[] g = new float[1000];
        java.util.Arrays.fill(g, 0.5f); // norm = 0.5 * sqrt(1000) = 15.81
        assertEquals(Verdict.ACCEPTED, new ContributionCheck(16).check(g, g.length));
        ContributionCheck tight = new ContributionCheck(15);
        assertEquals(Verdict.NORM_TOO_LARGE, tight.check(g, g.length));
        assertEquals(Math.sqrt(250), tight.norm(), 1e-4);
        // only the checked prefix counts
        assertEquals(Verdict.ACCEPTED, tight.check(g, 800));
    }

    @Test
    void hugeFiniteValuesAreNotMistakenForInfinities() {
        float[] g = new float[5000];
        g[10] = 3e30f;
        g[4999] = -4e30f;
        ContributionCheck unbounded = new ContributionCheck(0);
        assertEquals(Verdict.ACCEPTED, unbounded.check(g, g.length));
        assertEquals(5e30, unbounded.norm(), 1e24); // sqrt(3e30^2 + 4e30^2)
        assertEquals(Verdict.NORM_TOO_LARGE, new ContributionCheck(1e6).check(g, g.length));
    }

    @Test
    void anInvalidBoundNamesTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ContributionCheck(-1));
        assertTrue(e.getMessage().contains("tributary.trust.max-gradient-norm"), e.getMessage());
    }

    @Test
    void checkingAllocatesNothingOnceWarm() {
        float[] g = random(new Random(SEED + 2), 4099);
        ContributionCheck check = new ContributionCheck(1e9);
        long allocated = Allocation.perThousandCalls(() -> check.check(g, g.length));
        assertTrue(allocated <= Allocation.ALLOWED_BYTES, allocated + " bytes over 1000 checks");
    }
}
