package io.tributary.coordinator;

import io.tributary.protocol.WorkPlan;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The audit that every sample of every epoch is trained exactly once. Shard 0's commits name the
 * trainers whose gradients went into each step ({@link #served}); each one's slice, under the plan
 * that gave it, is marked in a bitmap of the epoch. A position marked twice is a sample trained
 * twice; one never marked when the epoch closes ({@link #closeBefore}: no rollback can reach it any
 * more) was lost. Not thread-safe: it belongs to the {@link WorkPlanner}.
 */
final class SamplesAudit {

    /** Where a trainer's slice of a step comes from. */
    interface SliceOwner {
        /** The plan (or joiner's bridge) that gave {@code trainer} its slice of {@code step}; null when none did. */
        WorkPlan planOf(int trainer, long step);
    }

    /** One open epoch: which of its positions were served, and how many of them more than once. */
    private static final class EpochAudit {
        final int expectedFrom;
        final BitSet served = new BitSet();
        long twice;

        EpochAudit(int expectedFrom) {
            this.expectedFrom = expectedFrom;
        }
    }

    private final int stepsPerEpoch;
    private final int perStep;
    private final long totalSteps;
    /** Wired again after the coordinator's state is read back ({@link #owner(SliceOwner)}): not stored. */
    private transient SliceOwner owner;
    /** Per step: the trainers shard 0 committed it with, as long as the step's epoch is open. */
    private final TreeMap<Long, Set<Integer>> servedSteps = new TreeMap<>();
    private final TreeMap<Integer, EpochAudit> open = new TreeMap<>();
    /** Ranges of the slice being marked (reused: shard 0's commits mark every step's contributors). */
    private int[] markScratch = new int[4];
    private int epochsAudited;
    private long expected;
    private long trained;
    private long missed;
    private long twice;
    private long unplanned;

    /**
     * @param perStep samples per step (the run's global batch)
     * @param owner   finds the plan behind a served slice, when it is marked
     */
    /** The planner behind the slices, after this audit was read back from stored state. */
    void owner(SliceOwner owner) {
        this.owner = owner;
    }

    SamplesAudit(int stepsPerEpoch, int perStep, long totalSteps, SliceOwner owner) {
        this.stepsPerEpoch = stepsPerEpoch;
        this.perStep = perStep;
        this.totalSteps = totalSteps;
        this.owner = owner;
    }

    /** Epoch {@code epoch} is planned from sequence position {@code fromPosition} on (the positions before are not due). */
    void open(int epoch, int fromPosition) {
        open.computeIfAbsent(epoch, e -> new EpochAudit(fromPosition));
    }

    /** Shard 0 committed step {@code step} with trainer {@code trainer}'s gradient in it; marks its slice once. */
    int served(int trainer, long step) {
        Set<Integer> s = servedSteps.computeIfAbsent(step, k -> new HashSet<>(4));
        return s.add(trainer) ? mark(trainer, step) : 0;
    }

    /** Whether shard 0 committed {@code step} with {@code trainer}'s gradient (in an epoch still open). */
    boolean wasServed(int trainer, long step) {
        Set<Integer> s = servedSteps.get(step);
        return s != null && s.contains(trainer);
    }

    /** Marks {@code trainer}'s slice of {@code step}; returns its size (0: none, or no plan gave it one). */
    private int mark(int trainer, long step) {
        WorkPlan p = owner.planOf(trainer, step);
        EpochAudit audit = p == null ? null : open.get(p.epoch());
        if (audit == null) {
            unplanned++;
            return 0;
        }
        int index = p.indexOf(trainer);
        int size = p.sliceSize(index, step);
        if (size == 0) {
            return 0;
        }
        long start = p.sliceStart(index, step);
        if (markScratch.length < p.ranges().length + 2) {
            markScratch = new int[p.ranges().length + 2]; // grows with the plans' ranges, once in a while
        }
        int n = p.rangesOf(start, start + size, markScratch, 0);
        for (int i = 0; i < n; i += 2) {
            int from = markScratch[i];
            int to = markScratch[i + 1];
            for (int b = audit.served.nextSetBit(from); b >= 0 && b < to; b = audit.served.nextSetBit(b + 1)) {
                audit.twice++;
            }
            audit.served.set(from, to);
        }
        return size;
    }

    /**
     * Every shard went back to step {@code cut}: what was served from there on is void, epochs after
     * the cut's are planned anew, and the rest is marked again under the plans as they are now (call
     * it after the plans changed).
     */
    void rollback(long cut) {
        servedSteps.tailMap(cut, true).clear();
        int cutEpoch = (int) (cut / stepsPerEpoch);
        open.tailMap(cutEpoch + 1, true).clear();
        for (EpochAudit a : open.values()) {
            a.served.clear();
            a.twice = 0;
        }
        for (Map.Entry<Long, Set<Integer>> s : servedSteps.entrySet()) {
            for (int t : s.getValue()) {
                mark(t, s.getKey());
            }
        }
    }

    /**
     * Epochs that end at or before {@code step} can no longer change (no rollback goes below it):
     * counted, and forgotten with what was served in them.
     *
     * @return the end of the last epoch closed now, or -1 when none was
     */
    long closeBefore(long step) {
        long closedUpTo = -1;
        while (!open.isEmpty()) {
            int epoch = open.firstKey();
            long end = Math.min((long) (epoch + 1) * stepsPerEpoch, totalSteps);
            if (end > step) {
                break;
            }
            EpochAudit a = open.remove(epoch);
            int positions = (int) ((end - (long) epoch * stepsPerEpoch) * perStep);
            long want = positions - a.expectedFrom;
            long got = a.served.get(a.expectedFrom, positions).cardinality();
            epochsAudited++;
            expected += want;
            trained += got;
            missed += want - got;
            twice += a.twice;
            servedSteps.headMap(end, false).clear();
            closedUpTo = end;
        }
        return closedUpTo;
    }

    /** The audit of the epochs closed so far, with {@code plans} work plans made. */
    WorkPlanner.Summary summary(int plans) {
        return new WorkPlanner.Summary(epochsAudited, expected, trained, missed, twice, unplanned, plans);
    }
}
