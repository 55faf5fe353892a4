package io.tributary.ps.aggregate;

/**
 * The coordinate-wise median: per coordinate, the middle of the T values (the mean of the two
 * middle ones when T is even). Robust to fewer than half of the trainers being arbitrary.
 */
public final class CoordinateMedian implements AggregationRule {

    private final RuleBounds bounds;
    private final SortedBlock block;

    public CoordinateMedian(int maxTrainers, int length) {
        this.bounds = new RuleBounds(maxTrainers, length);
        this.block = new SortedBlock(maxTrainers);
    }

    @Override
    public void aggregate(float[][] slots, int[] which, int count, int length, float[] out) {
        bounds.check(slots, which, count, length, out);
        float[] rows = block.rows();
        int mid = count >>> 1;
        int upper = SortedBlock.offset(mid);
        int lower = SortedBlock.offset(mid - ((count & 1) == 0 ? 1 : 0));
        for (int start = 0; start < length; start += SortedBlock.BLOCK) {
            int n = Math.min(SortedBlock.BLOCK, length - start);
            block.loadSorted(slots, which, count, start, n);
            for (int j = 0; j < n; j++) {
                // halves first: a + b could overflow near Float.MAX_VALUE; for odd T both rows are the middle one
                out[start + j] = 0.5f * rows[lower + j] + 0.5f * rows[upper + j];
            }
        }
    }

    @Override
    public String name() {
        return "median";
    }
}
