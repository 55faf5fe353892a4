package io.tributary.ps.aggregate;

import java.util.Arrays;

/**
 * After a robust rule has aggregated a step, finds the contributions it had to fight: those whose
 * L2 distance to the aggregate is more than {@code factor} times the median contributor's distance.
 * They were still aggregated (the rule clipped or trimmed their effect), but they count against
 * their trainer's reputation, so that a trainer that keeps sending scaled or flipped gradients ends
 * up quarantined even though no check rejects them. Needs at least three contributions (with fewer
 * there is no majority to measure against). Allocates only at construction.
 */
public final class OutlierScreen {

    private final float factor;
    private final double[] distance;
    private final double[] sorted;

    /** @param factor how many median distances make an outlier, &gt;= 1; 0 turns the screen off */
    public OutlierScreen(float factor, int maxTrainers) {
        if (!(factor == 0 || (factor >= 1 && Float.isFinite(factor)))) {
            throw new IllegalArgumentException("tributary.trust.outlier-factor = " + factor
                    + " is invalid: it must be 0 (off) or a finite number >= 1");
        }
        this.factor = factor;
        this.distance = new double[maxTrainers];
        this.sorted = new double[maxTrainers];
    }

    /**
     * Marks {@code outlier[t] = true} for each position t in {@code [0, count)} whose slot
     * {@code slots[which[t]]} lies more than factor median distances from {@code aggregate}
     * (over {@code [0, length)}), false for the others; returns how many were marked.
     */
    public int screen(float[][] slots, int[] which, int count, int length, float[] aggregate, boolean[] outlier) {
        Arrays.fill(outlier, 0, count, false);
        if (factor == 0 || count < 3) {
            return 0;
        }
        for (int t = 0; t < count; t++) {
            distance[t] = Math.sqrt(distanceSq(slots[which[t]], aggregate, length));
            sorted[t] = distance[t];
        }
        Arrays.sort(sorted, 0, count);
        double bound = factor * sorted[(count - 1) / 2];
        int marked = 0;
        for (int t = 0; t < count; t++) {
            if (distance[t] > bound) {
                outlier[t] = true;
                marked++;
            }
        }
        return marked;
    }

    /** {@code sum (a - b)^2} over {@code [0, length)}, in blocks of 1024 (float lanes within, double across). */
    private static double distanceSq(float[] a, float[] b, int length) {
        double total = 0;
        for (int start = 0; start < length; start += 1024) {
            total += Lanes.distanceSq(a, b, start, Math.min(length, start + 1024));
        }
        return total;
    }

    /** The distance of position t to the aggregate in the last {@link #screen} call. */
    public double distance(int t) {
        return distance[t];
    }
}
