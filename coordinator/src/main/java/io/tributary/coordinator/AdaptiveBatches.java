package io.tributary.coordinator;

/**
 * Adaptive batches, the arithmetic: each trainer's work-plan weight is multiplied by the mean
 * compute time of a step over its own, so that the trainers' steps take equally long; a trainer
 * twice as slow as the others ends with about half their batch (at least {@code minShare} of an
 * equal share). The weights are normalized to an equal share each on average.
 */
final class AdaptiveBatches {

    private AdaptiveBatches() {
    }

    /**
     * The next weights, or null when nothing should change: fewer than two trainers, one not
     * measured yet, or no weight would move by more than a fifth (measurements on shared CPUs are
     * noisy, and every change is a new work plan).
     *
     * @param weights   each trainer's current weight ({@link Roster#EQUAL_WEIGHT}: an equal share)
     * @param stepNanos each trainer's measured compute time per step (0 or less: not measured)
     * @param minShare  the least weight, as a share of an equal one
     */
    static int[] reweigh(int[] weights, double[] stepNanos, double minShare) {
        int n = weights.length;
        if (stepNanos.length != n) {
            throw new IllegalArgumentException(n + " weights but " + stepNanos.length + " step times");
        }
        if (n < 2) {
            return null;
        }
        double timeSum = 0;
        for (double t : stepNanos) {
            if (t <= 0) {
                return null;
            }
            timeSum += t;
        }
        double meanTime = timeSum / n;
        double[] raw = new double[n];
        double rawSum = 0;
        for (int i = 0; i < n; i++) {
            raw[i] = weights[i] * meanTime / stepNanos[i];
            rawSum += raw[i];
        }
        int[] next = new int[n];
        boolean moved = false;
        long floor = Math.round(minShare * Roster.EQUAL_WEIGHT);
        for (int i = 0; i < n; i++) {
            next[i] = (int) Math.max(floor, Math.round(raw[i] * Roster.EQUAL_WEIGHT * n / rawSum));
            moved |= Math.abs(next[i] - weights[i]) > weights[i] / 5;
        }
        return moved ? next : null;
    }
}
