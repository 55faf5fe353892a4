package io.tributary.ps.aggregate;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The coordinate-wise trimmed mean: per coordinate, the {@code k = floor(f * T)} largest and
 * {@code k} smallest of the T values are dropped and the rest averaged. With f &lt; 0.5, T &gt; 2k
 * always holds. Robust to up to k arbitrary trainers per coordinate.
 */
public final class TrimmedMean implements AggregationRule {

    private static final VectorSpecies<Float> S = Lanes.S;

    private final RuleBounds bounds;
    private final float trimFraction;
    private final SortedBlock block;

    /** @param trimFraction f in [0, 0.5) */
    public TrimmedMean(float trimFraction, int maxTrainers, int length) {
        if (!(trimFraction >= 0 && trimFraction < 0.5f)) {
            throw new IllegalArgumentException("tributary.trust.trim-fraction = " + trimFraction
                    + " is invalid: it must be in [0, 0.5)");
        }
        this.bounds = new RuleBounds(maxTrainers, length);
        this.trimFraction = trimFraction;
        this.block = new SortedBlock(maxTrainers);
    }

    /** k for T trainers. */
    public int trimmed(int count) {
        return (int) Math.floor(trimFraction * count);
    }

    @Override
    public void aggregate(float[][] slots, int[] which, int count, int length, float[] out) {
        bounds.check(slots, which, count, length, out);
        int k = trimmed(count);
        float kept = count - 2 * k;
        float[] rows = block.rows();
        for (int start = 0; start < length; start += SortedBlock.BLOCK) {
            int n = Math.min(SortedBlock.BLOCK, length - start);
            block.loadSorted(slots, which, count, start, n);
            int first = SortedBlock.offset(k);
            int vectorEnd = S.loopBound(n);
            int j = 0;
            for (; j < vectorEnd; j += S.length()) {
                FloatVector sum = FloatVector.fromArray(S, rows, first + j);
                for (int r = k + 1; r < count - k; r++) {
                    sum = sum.add(FloatVector.fromArray(S, rows, SortedBlock.offset(r) + j));
                }
                sum.div(kept).intoArray(out, start + j);
            }
            for (; j < n; j++) {
                float sum = rows[first + j];
                for (int r = k + 1; r < count - k; r++) {
                    sum += rows[SortedBlock.offset(r) + j];
                }
                out[start + j] = sum / kept;
            }
        }
    }

    @Override
    public String name() {
        return "trimmed-mean";
    }
}
