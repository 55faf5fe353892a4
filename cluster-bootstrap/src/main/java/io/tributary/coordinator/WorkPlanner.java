package io.tributary.coordinator;

import io.tributary.ps.protocol.WorkPlan;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The coordinator's side of the {@link WorkPlan}s: it makes them, leases steps to the trainers, and
 * audits that every sample of every epoch is trained exactly once.
 *
 * <ul>
 *   <li><b>Leases.</b> Trainers compute only steps below the lease; a new plan starts at the lease
 *       ({@link #replan}), so no step is ever computed under two plans, whatever the messages' timing.
 *   <li><b>Handing on.</b> When trainers are gone, a new plan serves, besides what is left of the
 *       epoch, every slice a gone trainer was given and did not deliver (neither committed by shard 0
 *       nor reported as pushed): its samples are trained by the others in the steps that follow.
 *   <li><b>Audit.</b> Shard 0's commits name the trainers whose gradients went into each step; each
 *       one's slice is marked in a bitmap of the epoch. A position marked twice is a sample trained
 *       twice; one never marked when the epoch is over (no rollback can reach it) was lost.
 * </ul>
 *
 * Not thread-safe: it belongs to the coordinator actor.
 */
public final class WorkPlanner {

    /** The audit of the epochs closed so far. */
    public record Summary(int epochs, long expected, long trained, long missed, long twice, long unplanned, int plans) {
    }

    /** What to tell the trainers: new plans (each with the lease), or just a longer lease. */
    record Extension(List<WorkPlan> plans, long until) {
    }

    private static final class EpochAudit {
        final int expectedFrom;
        final BitSet served = new BitSet();
        long twice;

        EpochAudit(int expectedFrom) {
            this.expectedFrom = expectedFrom;
        }
    }

    private final long runId;
    private final int stepsPerEpoch;
    private final int perStep;
    private final long totalSteps;
    private final int leaseSteps;
    private final boolean scale;
    private final TreeMap<Long, WorkPlan> plans = new TreeMap<>();
    /** Per plan (by first step): the gone trainers' settled marks before that plan requeued their slices. */
    private final Map<Long, Map<Integer, Long>> settledBeforePlan = new HashMap<>();
    /** Per gone trainer: its slices of steps below this were requeued (or were its to deliver no more). */
    private final Map<Integer, Long> settled = new HashMap<>();
    private final TreeMap<Long, Set<Integer>> servedSteps = new TreeMap<>();
    private final TreeMap<Integer, EpochAudit> open = new TreeMap<>();
    private long leasedUntil;
    private long lastSentLease;
    /** Ranges of the slice being marked (reused: shard 0's commits mark every step's contributors). */
    private int[] markScratch = new int[4];
    private int nextId;
    private int epochsAudited;
    private long expected;
    private long trained;
    private long missed;
    private long twice;
    private long unplanned;

    /**
     * @param perStep    samples per step (the run's global batch)
     * @param leaseSteps how far beyond the run's progress trainers may compute
     * @param scale      the shards aggregate with the plain mean (see {@link WorkPlan#scale()})
     */
    WorkPlanner(long runId, int stepsPerEpoch, int perStep, long totalSteps, int leaseSteps, boolean scale) {
        if (leaseSteps < 1) {
            throw new IllegalArgumentException("tributary.consistency.lease-steps = " + leaseSteps
                    + " is invalid: it must be >= 1");
        }
        this.runId = runId;
        this.stepsPerEpoch = stepsPerEpoch;
        this.perStep = perStep;
        this.totalSteps = totalSteps;
        this.leaseSteps = leaseSteps;
        this.scale = scale;
    }

    /** The first plan: from {@code first} (0, or a resumed step) to the end of its epoch. */
    WorkPlan start(long first, int[] trainers, int[] weights) {
        leasedUntil = Math.min(first + leaseSteps, epochEnd(first));
        lastSentLease = leasedUntil;
        return freshEpochPlan(first, trainers, weights);
    }

    private long epochEnd(long step) {
        return Math.min((step / stepsPerEpoch + 1) * stepsPerEpoch, totalSteps);
    }

    /** The plan of the rest of {@code first}'s epoch, every position of it not yet served. */
    private WorkPlan freshEpochPlan(long first, int[] trainers, int[] weights) {
        int epoch = (int) (first / stepsPerEpoch);
        int fromPosition = (int) (first % stepsPerEpoch) * perStep;
        open.computeIfAbsent(epoch, e -> new EpochAudit(fromPosition));
        long to = epochEnd(first);
        int[] ranges = {fromPosition, (int) ((to - (long) epoch * stepsPerEpoch) * perStep)};
        WorkPlan p = new WorkPlan(runId, nextId++, epoch, first, to, ranges, trainers, weights, scale, leasedUntil);
        plans.put(first, p);
        return p;
    }

    long leasedUntil() {
        return leasedUntil;
    }

    /**
     * The run stands at {@code progress} (trainers may compute that step): the lease goes to
     * {@code progress + lease-steps}, with the next epoch's plan when it gets there. Null when
     * there is nothing worth telling (the lease grew by less than half its length).
     */
    Extension extend(long progress, int[] trainers, int[] weights) {
        long target = Math.min(progress + leaseSteps, totalSteps);
        if (target <= leasedUntil) {
            return null;
        }
        List<WorkPlan> made = new ArrayList<>(1);
        leasedUntil = target;
        while (plans.lastEntry().getValue().to() < target) {
            made.add(freshEpochPlan(plans.lastEntry().getValue().to(), trainers, weights));
        }
        if (made.isEmpty() && target - lastSentLease < Math.max(1, leaseSteps / 2) && target < totalSteps) {
            return null; // the trainers' lease still reaches half a lease ahead; the last one always goes out
        }
        lastSentLease = target;
        return new Extension(made, target);
    }

    /**
     * A new plan from the lease on, for {@code trainers} with {@code weights}: what is left of the
     * epoch, plus each gone trainer's slices that it neither delivered nor reported as pushed.
     *
     * @param gone      trainer id to the first step it did not report as pushed, for every trainer
     *                  that is gone (it has no part in the new plan)
     * @return the plan, or null when the lease already reaches the run's end
     */
    WorkPlan replan(int[] trainers, int[] weights, Map<Integer, Long> gone) {
        long from = leasedUntil;
        if (from >= totalSteps) {
            return null;
        }
        Map.Entry<Long, WorkPlan> e = plans.floorEntry(from);
        if (e == null || !e.getValue().covers(from)) {
            // the lease ends at an epoch's end whose next plan is not made yet: that one gets the new trainers
            return recordSettled(from, gone, freshEpochPlan(from, trainers, weights));
        }
        WorkPlan current = e.getValue();
        int capacity = current.ranges().length + 2;
        for (WorkPlan p : plans.headMap(from, true).values()) {
            if (p.epoch() == current.epoch()) {
                capacity += 2 * (int) (p.to() - p.from()) * p.trainers().length;
            }
        }
        int[] buffer = new int[capacity];
        int n = 0;
        Map<Integer, Long> before = new HashMap<>();
        for (Map.Entry<Integer, Long> g : gone.entrySet()) {
            int t = g.getKey();
            long since = Math.max(settled.getOrDefault(t, 0L), g.getValue());
            before.put(t, settled.getOrDefault(t, 0L));
            for (Map.Entry<Long, WorkPlan> pe : plans.headMap(from, true).entrySet()) {
                WorkPlan p = pe.getValue();
                int index = p.indexOf(t);
                if (p.epoch() != current.epoch() || index < 0) {
                    continue;
                }
                Long next = plans.higherKey(pe.getKey());
                long end = Math.min(next == null ? p.to() : next, from);
                for (long s = Math.max(p.from(), since); s < end; s++) {
                    Set<Integer> served = servedSteps.get(s);
                    int size = p.sliceSize(index, s);
                    if (size > 0 && (served == null || !served.contains(t))) {
                        long start = p.sliceStart(index, s);
                        n = p.rangesOf(start, start + size, buffer, n);
                    }
                }
            }
            settled.put(t, Math.max(settled.getOrDefault(t, 0L), from));
        }
        n = current.rangesOf(current.windowStart(from), current.length(), buffer, n);
        WorkPlan p = new WorkPlan(runId, nextId++, current.epoch(), from, current.to(), java.util.Arrays.copyOf(buffer, n),
                trainers, weights, scale, leasedUntil);
        plans.tailMap(from, true).clear();
        plans.put(from, p);
        settledBeforePlan.put(from, before);
        return p;
    }

    private WorkPlan recordSettled(long from, Map<Integer, Long> gone, WorkPlan p) {
        Map<Integer, Long> before = new HashMap<>();
        for (int t : gone.keySet()) {
            before.put(t, settled.getOrDefault(t, 0L));
            settled.put(t, Math.max(settled.getOrDefault(t, 0L), from)); // slices of an epoch that is over: lost
        }
        settledBeforePlan.put(from, before);
        return p;
    }

    /** The plans a trainer starting at {@code step} needs: the one covering it and any after it. */
    List<WorkPlan> plansFrom(long step) {
        List<WorkPlan> out = new ArrayList<>();
        Long first = plans.floorKey(step);
        for (WorkPlan p : plans.tailMap(first == null ? step : first, true).values()) {
            if (p.to() > step) {
                out.add(p);
            }
        }
        return out;
    }

    /** Shard 0 committed step {@code step} with trainer {@code trainer}'s gradient in it. */
    void served(int trainer, long step) {
        Set<Integer> s = servedSteps.computeIfAbsent(step, k -> new HashSet<>(4));
        if (!s.add(trainer)) {
            return;
        }
        mark(trainer, step);
    }

    private void mark(int trainer, long step) {
        Map.Entry<Long, WorkPlan> e = plans.floorEntry(step);
        WorkPlan p = e == null ? null : e.getValue();
        int index = p == null || !p.covers(step) ? -1 : p.indexOf(trainer);
        EpochAudit audit = p == null ? null : open.get(p.epoch());
        if (index < 0 || audit == null) {
            unplanned++;
            return;
        }
        int size = p.sliceSize(index, step);
        if (size == 0) {
            return;
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
    }

    /**
     * Every shard went back to step {@code cut}: what was served from there on is void, plans that
     * start after it are dropped (with what they requeued), and the lease ends at it (the trainers
     * rewind; a {@link #replan} from {@code cut} follows).
     */
    void rollback(long cut) {
        servedSteps.tailMap(cut, true).clear();
        for (Long from : new ArrayList<>(plans.tailMap(cut, false).descendingKeySet())) {
            Map<Integer, Long> before = settledBeforePlan.remove(from);
            if (before != null) {
                settled.putAll(before);
            }
            plans.remove(from);
        }
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
        leasedUntil = cut;
        lastSentLease = cut;
    }

    /** Epochs that end at or before {@code step} can no longer change (no rollback goes below it): counted. */
    void closeBefore(long step) {
        while (!open.isEmpty()) {
            int epoch = open.firstKey();
            long end = Math.min((long) (epoch + 1) * stepsPerEpoch, totalSteps);
            if (end > step) {
                return;
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
            plans.headMap(end, false).entrySet().removeIf(p -> p.getValue().to() <= end);
        }
    }

    Summary summary() {
        return new Summary(epochsAudited, expected, trained, missed, twice, unplanned, nextId);
    }
}
