package io.tributary.protocol;

import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import java.util.Arrays;
import java.util.Objects;

/**
 * Which samples each trainer computes on at each step of steps {@code [from, to)} of one epoch
 * (the coordinator's word; {@code to} is the epoch's end, or for a joiner's bridge, a plan of that
 * one trainer over the steps already leased to the others, the step the next plan starts at). The epoch's samples are a sequence
 * every node derives alike from the seed (the trainers' {@code EpochSequence}); a plan serves the
 * positions {@code ranges} of it ({@code [start, end)} pairs, in order: the "virtual" sequence of
 * the plan), split into equal windows, one per step, and each window into consecutive slices, one
 * per trainer in {@code trainers} order, sized by {@code weights}. A trainer with a larger weight
 * gets a larger batch (a fast trainer, when batches adapt), a weight of 0 no batch (it sends an
 * empty contribution so that the step can close).
 *
 * <p>Every position of {@code ranges} falls into exactly one slice of exactly one step. The
 * coordinator makes a new plan when the trainers change (a trainer gone: the slices it did not
 * deliver go into the new plan's ranges, so they are trained after all) or their speeds do, and
 * only from the first step it has not yet leased to anybody ({@code leasedUntil}: no trainer
 * computes a step at or beyond its lease), so that no step is ever computed under two plans.
 *
 * <p>Allocation-free: every method below works on the record's arrays alone.
 *
 * @param scale true when the shards aggregate with the plain mean: each trainer then scales its
 *              per-sample mean gradient by {@link #scale(int, long)} so that the mean over the
 *              contributions is the mean over the step's samples however unequal the batches
 */
public record WorkPlan(long runId, int id, int epoch, long from, long to, int[] ranges, int[] trainers, int[] weights,
                       boolean scale, long leasedUntil) implements TrainerCommand, WireMessage {

    public WorkPlan {
        Objects.requireNonNull(ranges, "ranges");
        Objects.requireNonNull(trainers, "trainers");
        Objects.requireNonNull(weights, "weights");
        if (epoch < 0 || from < 0 || to <= from) {
            throw new IllegalArgumentException("work plan " + id + ": steps [" + from + ", " + to + ") of epoch " + epoch
                    + " are not a valid span");
        }
        if (ranges.length % 2 != 0) {
            throw new IllegalArgumentException("work plan " + id + ": ranges must be [start, end) pairs, got "
                    + ranges.length + " numbers");
        }
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] < 0 || ranges[i + 1] < ranges[i]) {
                throw new IllegalArgumentException("work plan " + id + ": range [" + ranges[i] + ", " + ranges[i + 1]
                        + ") is invalid");
            }
        }
        if (trainers.length == 0 || trainers.length != weights.length) {
            throw new IllegalArgumentException("work plan " + id + ": " + trainers.length + " trainers but "
                    + weights.length + " weights; a plan needs at least one trainer and a weight for each");
        }
        long total = 0;
        for (int w : weights) {
            if (w < 0) {
                throw new IllegalArgumentException("work plan " + id + ": weight " + w + " is negative");
            }
            total += w;
        }
        if (total == 0) {
            throw new IllegalArgumentException("work plan " + id + ": every weight is 0, nobody would train");
        }
    }

    /** Positions this plan serves over its steps. */
    public long length() {
        long n = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            n += ranges[i + 1] - ranges[i];
        }
        return n;
    }

    public boolean covers(long step) {
        return step >= from && step < to;
    }

    /** Where trainer {@code trainer} stands in {@link #trainers()}, or -1 when it has no part in this plan. */
    public int indexOf(int trainer) {
        for (int i = 0; i < trainers.length; i++) {
            if (trainers[i] == trainer) {
                return i;
            }
        }
        return -1;
    }

    /** First virtual position of step {@code step}'s window ({@code step} may be {@code to}: the end). */
    public long windowStart(long step) {
        checkStep(step, to);
        return (step - from) * length() / (to - from);
    }

    /** First virtual position of the slice of the trainer at {@code index} in step {@code step}. */
    public long sliceStart(int index, long step) {
        Objects.checkIndex(index, trainers.length);
        checkStep(step, to - 1);
        long ws = windowStart(step);
        long window = windowStart(step + 1) - ws;
        long before = 0;
        long total = 0;
        for (int i = 0; i < weights.length; i++) {
            if (i < index) {
                before += weights[i];
            }
            total += weights[i];
        }
        return ws + window * before / total;
    }

    /** Samples of the trainer at {@code index} in step {@code step} (0: an empty contribution). */
    public int sliceSize(int index, long step) {
        long end = index + 1 < trainers.length ? sliceStart(index + 1, step) : windowStart(step + 1);
        return (int) (end - sliceStart(index, step));
    }

    /** The largest slice the trainer at {@code index} gets in any step of this plan. */
    public int maxSliceSize(int index) {
        int max = 0;
        for (long s = from; s < to; s++) {
            max = Math.max(max, sliceSize(index, s));
        }
        return max;
    }

    /**
     * With {@link #scale()}: the factor for the per-sample mean gradient of the trainer at
     * {@code index} in step {@code step}: its samples times the trainers with a batch in that step,
     * over the step's samples (1 when the batches are equal).
     */
    public float scale(int index, long step) {
        int n = sliceSize(index, step);
        if (!scale || n == 0) {
            return 1f;
        }
        int withBatch = 0;
        for (int i = 0; i < trainers.length; i++) {
            withBatch += sliceSize(i, step) > 0 ? 1 : 0;
        }
        long window = windowStart(step + 1) - windowStart(step);
        return n * withBatch == window ? 1f : (float) ((double) n * withBatch / window);
    }

    /**
     * Writes the sequence positions of virtual positions {@code [start, end)} to {@code out} from
     * index 0; returns how many ({@code end - start}).
     */
    public int positions(long start, long end, int[] out) {
        int written = 0;
        long base = 0;
        for (int i = 0; i < ranges.length && base < end; i += 2) {
            int len = ranges[i + 1] - ranges[i];
            long lo = Math.max(start, base);
            long hi = Math.min(end, base + len);
            for (long v = lo; v < hi; v++) {
                out[written++] = (int) (ranges[i] + (v - base));
            }
            base += len;
        }
        return written;
    }

    /**
     * Appends the sequence ranges behind virtual positions {@code [start, end)} to {@code out} as
     * [start, end) pairs from {@code outLength}; returns the new length of {@code out}'s used part.
     * {@code out} must have room (two ints per range of this plan suffice).
     */
    public int rangesOf(long start, long end, int[] out, int outLength) {
        int n = outLength;
        long base = 0;
        for (int i = 0; i < ranges.length && base < end; i += 2) {
            int len = ranges[i + 1] - ranges[i];
            long lo = Math.max(start, base);
            long hi = Math.min(end, base + len);
            if (lo < hi) {
                int a = (int) (ranges[i] + (lo - base));
                int b = (int) (ranges[i] + (hi - base));
                if (n > 0 && out[n - 1] == a) {
                    out[n - 1] = b; // joins the range before it
                } else {
                    out[n++] = a;
                    out[n++] = b;
                }
            }
            base += len;
        }
        return n;
    }

    private void checkStep(long step, long last) {
        if (step < from || step > last) {
            throw new IllegalArgumentException("step " + step + " is outside work plan " + id + " (steps " + from + ".."
                    + (to - 1) + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WorkPlan p && p.runId == runId && p.id == id && p.epoch == epoch && p.from == from
                && p.to == to && Arrays.equals(p.ranges, ranges) && Arrays.equals(p.trainers, trainers)
                && Arrays.equals(p.weights, weights) && p.scale == scale && p.leasedUntil == leasedUntil;
    }

    @Override
    public int hashCode() {
        return Objects.hash(runId, id, from, Arrays.hashCode(ranges), Arrays.hashCode(trainers), Arrays.hashCode(weights));
    }

    @Override
    public String toString() {
        return "WorkPlan[" + id + ", epoch " + epoch + ", steps " + from + ".." + (to - 1) + ", " + length()
                + " samples, trainers " + Arrays.toString(trainers) + ", weights " + Arrays.toString(weights) + "]";
    }
}
