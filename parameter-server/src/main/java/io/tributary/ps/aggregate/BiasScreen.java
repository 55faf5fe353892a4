package io.tributary.ps.aggregate;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Finds trainers whose slices lean the same way step after step, the signature of a colluding
 * "little is enough" attacker (and of any trainer that sends a steady bias): such a slice is close
 * to the aggregate in every single step, so no distance test sees it, but an honest trainer's
 * deviation from the aggregate is fresh sampling noise each step while an attacker's repeats.
 *
 * <p>Per trainer slot the screen keeps the running average {@code D} of its deviations
 * {@code x - aggregate} (weight {@link #DEVIATION_RATE} per step) and the running average of the
 * cosine between each new deviation and the {@code D} of the steps before it (weight
 * {@link #CONSISTENCY_RATE}). For an honest trainer that cosine is about 0 (independent noise in a
 * space of thousands of dimensions); for a biased one it stays well above. A trainer whose average
 * cosine exceeds {@code threshold} after {@code warmup} steps is a suspect: the shard leaves its
 * slices out of the aggregate (they count as rejected) and keeps screening them against the
 * aggregate of the others, so a trainer that stops leaning is readmitted once its consistency is
 * below half the threshold (hysteresis: no flapping around the threshold).
 *
 * <p>One vector per trainer slot, allocated at the trainer's first slice; nothing after that.
 */
public final class BiasScreen {

    /** Weight of one step's deviation in a trainer's running deviation. */
    public static final float DEVIATION_RATE = 0.1f;
    /** Weight of one step's cosine in a trainer's consistency. */
    public static final double CONSISTENCY_RATE = 0.1;

    private final float threshold;
    private final int warmup;
    private final int length;
    private final float[][] drift;
    private final int[] seen;
    private final double[] consistency;
    private final boolean[] suspect;

    /**
     * @param threshold consistency above which a trainer is a suspect, in (0, 1); 0 turns the screen off
     * @param warmup    steps a trainer is screened before it can be a suspect, &gt;= 1
     */
    public BiasScreen(float threshold, int warmup, int maxTrainers, int length) {
        if (!(threshold == 0 || (threshold > 0 && threshold < 1))) {
            throw new IllegalArgumentException("tributary.trust.bias-threshold = " + threshold
                    + " is invalid: it must be 0 (off) or in (0, 1)");
        }
        if (warmup < 1) {
            throw new IllegalArgumentException("tributary.trust.bias-warmup = " + warmup + " is invalid: it must be >= 1");
        }
        this.threshold = threshold;
        this.warmup = warmup;
        this.length = length;
        this.drift = new float[maxTrainers][];
        this.seen = new int[maxTrainers];
        this.consistency = new double[maxTrainers];
        this.suspect = new boolean[maxTrainers];
    }

    /** The consistency under which a suspect is taken back: half the threshold. */
    public float release() {
        return threshold / 2;
    }

    /** Whether the screen runs at all. */
    public boolean enabled() {
        return threshold > 0;
    }

    /** Whether {@code trainer}'s slices are to be left out of the aggregate. */
    public boolean suspect(int trainer) {
        return suspect[trainer];
    }

    /** {@code trainer}'s consistency: the running cosine between its new and its past deviations. */
    public double consistency(int trainer) {
        return consistency[trainer];
    }

    /** How many of {@code trainer}'s slices were screened since its slot was last reset. */
    public int seen(int trainer) {
        return seen[trainer];
    }

    /** Forgets a trainer (it left; its slot may go to another trainer). */
    public void reset(int trainer) {
        if (drift[trainer] != null) {
            java.util.Arrays.fill(drift[trainer], 0f);
        }
        seen[trainer] = 0;
        consistency[trainer] = 0;
        suspect[trainer] = false;
    }

    /**
     * Screens {@code trainer}'s slice {@code x} against this step's {@code aggregate}; returns whether
     * the trainer is still a suspect (a suspect is taken back below {@link #release()}; new suspects
     * are made by {@link #nominate}). Does nothing (false) when the screen is off.
     */
    public boolean observe(int trainer, float[] x, float[] aggregate) {
        if (threshold == 0) {
            return false;
        }
        float[] d = drift[trainer];
        if (d == null) {
            d = new float[length];
            drift[trainer] = d;
        }
        double dot = 0;
        double devSq = 0;
        double driftSq = 0;
        for (int start = 0; start < length; start += 1024) {
            int end = Math.min(length, start + 1024);
            float[] sums = block(x, aggregate, d, start, end);
            dot += sums[0];
            devSq += sums[1];
            driftSq += sums[2];
        }
        if (seen[trainer] > 0 && devSq > 0 && driftSq > 0) {
            double cos = dot / Math.sqrt(devSq * driftSq);
            consistency[trainer] = seen[trainer] == 1 ? cos
                    : (1 - CONSISTENCY_RATE) * consistency[trainer] + CONSISTENCY_RATE * cos;
        }
        seen[trainer]++;
        // hysteresis: a suspect is taken back only well below the threshold, so one that hovers near it
        // (a sign-flipper late in training) does not flap in and out of the aggregate
        if (suspect[trainer]) {
            suspect[trainer] = consistency[trainer] > release();
        }
        return suspect[trainer];
    }

    /**
     * After a step's {@link #observe} calls: makes at most one new suspect among {@code trainers[0, count)},
     * the one with the highest consistency above the threshold (after its warm-up), and returns it, or -1.
     * One per step because an attacker's bias is part of the aggregate too, so the honest trainers'
     * deviations carry a share of it (1/n of it with n trainers) until the attacker is left out; with
     * three trainers that share once lifted an honest trainer just over the threshold in the same step
     * as the attacker.
     */
    public int nominate(int[] trainers, int count) {
        if (threshold == 0) {
            return -1;
        }
        int best = -1;
        for (int i = 0; i < count; i++) {
            int t = trainers[i];
            if (!suspect[t] && seen[t] > warmup && consistency[t] > threshold
                    && (best < 0 || consistency[t] > consistency[best])) {
                best = t;
            }
        }
        if (best >= 0) {
            suspect[best] = true;
        }
        return best;
    }

    private final float[] sums = new float[3];

    /**
     * Over {@code [start, end)}: sums of {@code dev * d}, {@code dev^2} and {@code d^2} with
     * {@code dev = x - aggregate}, then {@code d += rate (dev - d)}. Float lanes inside a block.
     */
    private float[] block(float[] x, float[] aggregate, float[] d, int start, int end) {
        var s = Lanes.S;
        int vectorEnd = start + s.loopBound(end - start);
        FloatVector dot = FloatVector.zero(s);
        FloatVector dev2 = FloatVector.zero(s);
        FloatVector d2 = FloatVector.zero(s);
        int i = start;
        for (; i < vectorEnd; i += s.length()) {
            FloatVector dev = FloatVector.fromArray(s, x, i).sub(FloatVector.fromArray(s, aggregate, i));
            FloatVector old = FloatVector.fromArray(s, d, i);
            dot = dev.fma(old, dot);
            dev2 = dev.fma(dev, dev2);
            d2 = old.fma(old, d2);
            dev.sub(old).mul(DEVIATION_RATE).add(old).intoArray(d, i);
        }
        float a = dot.reduceLanes(VectorOperators.ADD);
        float b = dev2.reduceLanes(VectorOperators.ADD);
        float c = d2.reduceLanes(VectorOperators.ADD);
        for (; i < end; i++) {
            float dev = x[i] - aggregate[i];
            float old = d[i];
            a += dev * old;
            b += dev * dev;
            c += old * old;
            d[i] = old + DEVIATION_RATE * (dev - old);
        }
        sums[0] = a;
        sums[1] = b;
        sums[2] = c;
        return sums;
    }
}
