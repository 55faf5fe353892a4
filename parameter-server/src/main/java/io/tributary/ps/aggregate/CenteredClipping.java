package io.tributary.ps.aggregate;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Centered clipping with momentum (Karimireddy, He and Jaggi, "Learning from History for Byzantine
 * Robust Optimization", ICML 2021). Trainers here send plain gradients, so the rule keeps the
 * paper's per-worker momentum itself: {@code m_i <- momentum * m_i + (1 - momentum) * g_i} for each
 * trainer present in the step (a trainer's first gradient initialises its {@code m_i}). Then, from
 * the center {@code v} = the previous step's aggregate (zero before the first), it repeats
 * {@code iterations} times {@code v <- v + mean_i clip(m_i - v, tau)}, where clip scales a vector
 * down to norm at most tau. One trainer moves the aggregate by at most {@code tau / T} per
 * iteration, whatever it sends, and the momentum shrinks the honest trainers' spread so that a
 * small tau still leaves them unclipped.
 *
 * <p>With {@code tau} = {@link AggregationSettings#AUTO_TAU} ({@code clip-tau = auto}) the radius is
 * chosen each iteration as the (lower) median of the trainers' distances to the current center: as
 * long as fewer than half the trainers are Byzantine it is an honest trainer's distance, so it
 * scales with the honest spread whatever the model, the slice length or the phase of training,
 * and a fixed radius need not be tuned. One attacker then moves the center by at most about the
 * honest spread divided by T per iteration.
 *
 * <p>The state (the momenta, indexed by trainer, and the previous aggregate) is why one instance
 * belongs to one shard; norms are over the shard's slice {@code [0, length)}. Cost per step: one
 * pass that updates the momenta and measures their distances to the center, then one pass per
 * iteration that moves the center and measures the distances to the new one, blocked so that the
 * center's block stays in L1.
 */
public final class CenteredClipping implements AggregationRule {

    private static final VectorSpecies<Float> S = Lanes.S;
    /** Elements per block: the block of the center and of its move stay in L1 while the slots stream. */
    private static final int BLOCK = 1024;

    private final RuleBounds bounds;
    private final float tau;
    private final int iterations;
    private final float momentum;
    private final float[][] momenta;
    private final boolean[] started;
    private final float[] previous;
    private final float[] move;
    private double[] distSq;
    private double[] nextDistSq;
    private final float[] weight;
    private final double[] sortedDist;

    /**
     * @param tau        clipping radius, &gt; 0, or {@link AggregationSettings#AUTO_TAU}
     * @param iterations clipping iterations per step, &gt;= 1
     * @param momentum   the per-trainer momentum, in [0, 1); 0: clip the gradients themselves
     */
    public CenteredClipping(float tau, int iterations, float momentum, int maxTrainers, int length) {
        if (tau != AggregationSettings.AUTO_TAU && (!(tau > 0) || !Float.isFinite(tau))) {
            throw new IllegalArgumentException("tributary.trust.clip-tau = " + tau
                    + " is invalid: it must be auto or a finite number > 0");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("tributary.trust.clip-iterations = " + iterations + " is invalid: it must be >= 1");
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("tributary.trust.clip-momentum = " + momentum + " is invalid: it must be in [0, 1)");
        }
        this.bounds = new RuleBounds(maxTrainers, length);
        this.tau = tau;
        this.iterations = iterations;
        this.momentum = momentum;
        this.momenta = new float[maxTrainers][length];
        this.started = new boolean[maxTrainers];
        this.previous = new float[length];
        this.move = new float[BLOCK];
        this.distSq = new double[maxTrainers];
        this.nextDistSq = new double[maxTrainers];
        this.weight = new float[maxTrainers];
        this.sortedDist = new double[maxTrainers];
    }

    @Override
    public void aggregate(float[][] slots, int[] which, int count, int length, float[] out) {
        bounds.check(slots, which, count, length, out);
        float[] v = out;
        System.arraycopy(previous, 0, v, 0, length);
        for (int t = 0; t < count; t++) {
            int trainer = which[t];
            float keep = started[trainer] ? momentum : 0f;
            distSq[t] = accumulate(momenta[trainer], slots[trainer], keep, v, length);
            started[trainer] = true;
        }
        for (int it = 0; it < iterations; it++) {
            double radius = tau == AggregationSettings.AUTO_TAU ? medianDistance(count) : tau;
            for (int t = 0; t < count; t++) {
                double d = Math.sqrt(distSq[t]);
                weight[t] = (float) ((d > radius ? radius / d : 1.0) / count);
            }
            boolean last = it == iterations - 1;
            Arrays.fill(nextDistSq, 0, count, 0.0);
            for (int start = 0; start < length; start += BLOCK) {
                int end = Math.min(length, start + BLOCK);
                moveBlock(which, count, v, start, end);
                if (!last) {
                    for (int t = 0; t < count; t++) {
                        nextDistSq[t] += Lanes.distanceSq(momenta[which[t]], v, start, end);
                    }
                }
            }
            double[] swap = distSq;
            distSq = nextDistSq;
            nextDistSq = swap;
        }
        System.arraycopy(v, 0, previous, 0, length);
    }

    /** The lower median of the {@code count} distances in {@link #distSq}. */
    private double medianDistance(int count) {
        for (int t = 0; t < count; t++) {
            sortedDist[t] = distSq[t];
        }
        Arrays.sort(sortedDist, 0, count);
        return Math.sqrt(sortedDist[(count - 1) / 2]);
    }

    /** {@code v[start, end) += sum_t weight[t] * (m_t - v)}. */
    private void moveBlock(int[] which, int count, float[] v, int start, int end) {
        int n = end - start;
        int vectorEnd = S.loopBound(n);
        Arrays.fill(move, 0, n, 0f);
        for (int t = 0; t < count; t++) {
            float[] m = momenta[which[t]];
            float w = weight[t];
            FloatVector wv = FloatVector.broadcast(S, w);
            int j = 0;
            for (; j < vectorEnd; j += S.length()) {
                FloatVector d = FloatVector.fromArray(S, m, start + j).sub(FloatVector.fromArray(S, v, start + j));
                d.fma(wv, FloatVector.fromArray(S, move, j)).intoArray(move, j);
            }
            for (; j < n; j++) {
                move[j] = Math.fma(m[start + j] - v[start + j], w, move[j]);
            }
        }
        for (int j = 0; j < n; j++) {
            v[start + j] += move[j];
        }
    }

    /**
     * {@code m = keep * m + (1 - keep) * g} over {@code [0, length)}, returning {@code |m - v|^2}:
     * float lanes within a block, double across blocks.
     */
    private static double accumulate(float[] m, float[] g, float keep, float[] v, int length) {
        float take = 1f - keep;
        FloatVector keepV = FloatVector.broadcast(S, keep);
        FloatVector takeV = FloatVector.broadcast(S, take);
        double total = 0;
        for (int start = 0; start < length; start += BLOCK) {
            int end = Math.min(length, start + BLOCK);
            int vectorEnd = start + S.loopBound(end - start);
            FloatVector acc = FloatVector.zero(S);
            int i = start;
            for (; i < vectorEnd; i += S.length()) {
                FloatVector mi = FloatVector.fromArray(S, m, i).mul(keepV).add(FloatVector.fromArray(S, g, i).mul(takeV));
                mi.intoArray(m, i);
                FloatVector d = mi.sub(FloatVector.fromArray(S, v, i));
                acc = d.fma(d, acc);
            }
            total += acc.reduceLanes(VectorOperators.ADD);
            for (; i < end; i++) {
                m[i] = keep * m[i] + take * g[i];
                double d = (double) m[i] - v[i];
                total += d * d;
            }
        }
        return total;
    }

    @Override
    public String name() {
        return "centered-clipping";
    }
}
