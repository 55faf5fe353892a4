package io.tributary.ps.aggregate;

/**
 * The arithmetic mean per coordinate: the trusted default. Sums in the order of {@code which}
 * starting from zero and multiplies by {@code 1/count}, the same float operations as the shard's
 * former fill/axpy/scale average, so results are bit-identical to it.
 */
public final class Mean implements AggregationRule {

    /** Elements per block, so the partial sums stay in L1 while every slot streams through once. */
    private static final int BLOCK = 2048;

    private final RuleBounds bounds;

    public Mean(int maxTrainers, int length) {
        this.bounds = new RuleBounds(maxTrainers, length);
    }

    @Override
    public void aggregate(float[][] slots, int[] which, int count, int length, float[] out) {
        bounds.check(slots, which, count, length, out);
        float scale = 1f / count;
        for (int start = 0; start < length; start += BLOCK) {
            int end = Math.min(length, start + BLOCK);
            float[] first = slots[which[0]];
            for (int i = start; i < end; i++) {
                out[i] = 0f + first[i]; // 0 + x, not x: -0 becomes +0 exactly as the old zero-filled sum did
            }
            for (int t = 1; t < count; t++) {
                float[] s = slots[which[t]];
                for (int i = start; i < end; i++) {
                    out[i] += s[i];
                }
            }
            for (int i = start; i < end; i++) {
                out[i] *= scale;
            }
        }
    }

    @Override
    public String name() {
        return "mean";
    }
}
