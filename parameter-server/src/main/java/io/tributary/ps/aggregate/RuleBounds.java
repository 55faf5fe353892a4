package io.tributary.ps.aggregate;

/** The sizes a rule was built for, and the per-call argument check every rule runs first. */
final class RuleBounds {

    final int maxTrainers;
    final int length;

    RuleBounds(int maxTrainers, int length) {
        if (maxTrainers < 1 || length < 0) {
            throw new IllegalArgumentException("an aggregation rule needs maxTrainers >= 1 and length >= 0, got "
                    + maxTrainers + " and " + length);
        }
        this.maxTrainers = maxTrainers;
        this.length = length;
    }

    void check(float[][] slots, int[] which, int count, int length, float[] out) {
        if (count < 1 || count > maxTrainers || count > which.length) {
            throw new IllegalArgumentException("count " + count + " outside 1.." + Math.min(maxTrainers, which.length));
        }
        if (length < 0 || length > this.length || out.length < length) {
            throw new IllegalArgumentException("length " + length + " exceeds the rule's " + this.length
                    + " or the output's " + out.length);
        }
        for (int t = 0; t < count; t++) {
            float[] s = slots[which[t]];
            if (s.length < length || s == out) {
                throw new IllegalArgumentException("slot " + which[t] + " is shorter than " + length
                        + " elements or is the output");
            }
        }
    }
}
