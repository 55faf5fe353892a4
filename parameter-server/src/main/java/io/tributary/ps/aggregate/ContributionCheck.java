package io.tributary.ps.aggregate;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Screens one trainer's gradient slot before it is aggregated: every value must be finite and the
 * slot's L2 norm must not exceed the configured bound (0: no bound). One pass over the slot, no
 * allocation; the verdict is returned and the norm of the last checked slot is kept.
 *
 * <p>Not thread-safe: one instance per shard, used on the shard's thread.
 */
public final class ContributionCheck {

    /** What the check decided about a slot. */
    public enum Verdict {
        /** Finite and within the norm bound. */
        ACCEPTED,
        /** At least one NaN or infinity. */
        NON_FINITE,
        /** Finite, but the L2 norm exceeds the bound. */
        NORM_TOO_LARGE
    }

    private static final VectorSpecies<Float> S = Lanes.S;
    /**
     * Elements summed in float lanes before the block's sum is carried into a double: short enough
     * that float rounding stays far below any bound that matters, and a block still in L1 when its
     * float sum overflows and it is summed again in double.
     */
    private static final int BLOCK = 4096;

    private final double maxNorm;
    private double norm;

    /** @param maxNorm the largest accepted L2 norm; 0 means no bound */
    public ContributionCheck(double maxNorm) {
        if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("tributary.trust.max-gradient-norm = " + maxNorm
                    + " is invalid: it must be a finite number >= 0 (0: no bound)");
        }
        this.maxNorm = maxNorm;
    }

    public double maxNorm() {
        return maxNorm;
    }

    /** L2 norm of the slot last checked; NaN when it held a non-finite value. */
    public double norm() {
        return norm;
    }

    /** Checks {@code slot[0, length)}. */
    public Verdict check(float[] slot, int length) {
        if (length < 0 || length > slot.length) {
            throw new IllegalArgumentException("length " + length + " outside a slot of " + slot.length);
        }
        double sumSq = 0;
        for (int start = 0; start < length; start += BLOCK) {
            int end = Math.min(length, start + BLOCK);
            int vectorEnd = start + S.loopBound(end - start);
            FloatVector acc = FloatVector.zero(S);
            for (int i = start; i < vectorEnd; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, slot, i);
                acc = v.fma(v, acc);
            }
            float blockSq = acc.reduceLanes(VectorOperators.ADD);
            if (!Float.isFinite(blockSq)) {
                // A NaN or infinity makes the float sum non-finite, and so do very large finite values: tell them apart.
                double exact = blockInDouble(slot, start, vectorEnd);
                if (Double.isNaN(exact)) {
                    norm = Double.NaN;
                    return Verdict.NON_FINITE;
                }
                sumSq += exact;
            } else {
                sumSq += blockSq;
            }
            for (int i = vectorEnd; i < end; i++) {
                float x = slot[i];
                if (!Float.isFinite(x)) {
                    norm = Double.NaN;
                    return Verdict.NON_FINITE;
                }
                sumSq += (double) x * x;
            }
        }
        norm = Math.sqrt(sumSq);
        return maxNorm > 0 && norm > maxNorm ? Verdict.NORM_TOO_LARGE : Verdict.ACCEPTED;
    }

    /** Sum of squares of {@code slot[from, to)} in double; NaN if any value is not finite. */
    private static double blockInDouble(float[] slot, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            float x = slot[i];
            if (!Float.isFinite(x)) {
                return Double.NaN;
            }
            s += (double) x * x;
        }
        return s;
    }
}
