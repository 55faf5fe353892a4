package io.tributary.coordinator;

import io.tributary.protocol.WorkPlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The coordinator's side of the {@link WorkPlan}s: it makes them, leases steps to the trainers, and
 * has every sample of every epoch audited ({@link SamplesAudit}) as trained exactly once.
 *
 * <ul>
 *   <li><b>Leases.</b> Trainers compute only steps below the lease; a new plan starts at the lease
 *       ({@link #replan}), so no step is ever computed under two plans, whatever the messages' timing.
 *   <li><b>Handing on.</b> When trainers are gone, a new plan serves, besides what is left of the
 *       epoch, every slice a gone trainer was given and did not deliver (neither committed by shard 0
 *       nor reported as pushed): its samples are trained by the others in the steps that follow.
 *   <li><b>Joiners.</b> A trainer that joins mid-run gets, besides a share of the next plan, a
 *       <i>bridge</i>: a plan of its own for the steps already leased to the others, from the step
 *       it joins at up to the next plan, whose slices (one mean batch each) are taken from the end of
 *       the epoch. It computes on samples from its first step, and the others' leased batches stay
 *       as they are.
 *   <li><b>Audit.</b> Shard 0's commits name the trainers whose gradients went into each step; the
 *       {@link SamplesAudit} marks each one's slice, under the plan or bridge that gave it, in a bitmap
 *       of the epoch: a position marked twice is a sample trained twice, one never marked when the
 *       epoch is over was lost.
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
    /** Joiners' bridges (one trainer each, steps before the plan they joined into); few, so a list. */
    private final List<WorkPlan> bridges = new ArrayList<>();
    /**
     * Slices shard 0 committed without their trainer's gradient (see {@link #committed}), and slices
     * of gone trainers handed on before shard 0 committed their steps: each is handed on once.
     */
    private final List<Orphan> orphans = new ArrayList<>();
    private final List<Integer> lastOrphaned = new ArrayList<>(4);
    private final SamplesAudit audit;
    private long leasedUntil;
    private long lastSentLease;
    private int nextId;
    private WorkPlan lastBridge;
    /** The last step shard 0 committed (sync; see {@link #committed}). */
    private long lastCommitted = -1;
    private int lastBridgeHandedOn;

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
        this.audit = new SamplesAudit(stepsPerEpoch, perStep, totalSteps, this::planOf);
    }

    /** Wires this planner's audit to it again after both were read back from stored state. */
    void rewire() {
        audit.owner(this::planOf);
    }

    /**
     * A coordinator took the run over from stored state that may be older than its predecessor's last lease:
     * that lease reached at most {@code bound} ({@code lease-steps} beyond the shards' progress), so a new
     * plan starts no lower (no step is computed under two plans).
     */
    void leaseAtLeast(long bound) {
        // not beyond the plans stored: a lease into an epoch whose plan is not stored would give that epoch's
        // first steps a plan of their own
        long b = Math.min(Math.min(bound, totalSteps), plans.isEmpty() ? 0 : plans.lastEntry().getValue().to());
        if (b > leasedUntil) {
            leasedUntil = b;
        }
    }

    int leaseSteps() {
        return leaseSteps;
    }

    /** How many plans were made (a stored state's fingerprint of the plans). */
    int plansMade() {
        return nextId;
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
        audit.open(epoch, fromPosition);
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
        return replan(trainers, weights, gone, -1, -1);
    }

    /**
     * {@link #replan(int[], int[], Map)}, and when trainer {@code joiner} (one of {@code trainers})
     * joins at step {@code joinStep}, below the lease: a bridge for it ({@link #bridgeOf}) over steps
     * {@code [joinStep, lease)}, one mean batch of the plan at {@code joinStep} per step (so that
     * the others' factors for the mean rule stay right), taken from the end of the epoch. None when
     * the lease reaches into the next epoch or what is left of this one is too short for it.
     */
    WorkPlan replan(int[] trainers, int[] weights, Map<Integer, Long> gone, int joiner, long joinStep) {
        lastBridge = null;
        lastBridgeHandedOn = 0;
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
        RangeList out = new RangeList(current.ranges().length + 16);
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
                requeue(p, index, t, Math.max(p.from(), since), end, out, from);
            }
            for (WorkPlan b : bridges) {
                if (b.trainers()[0] == t && b.epoch() == current.epoch()) {
                    requeue(b, 0, t, Math.max(b.from(), since), Math.min(b.to(), from), out, from);
                }
            }
            settled.put(t, Math.max(settled.getOrDefault(t, 0L), from));
        }
        for (Orphan o : orphans) {
            WorkPlan b = o.requeuedAt < 0 ? planOf(o.trainer, o.step) : null;
            if (b != null && b.epoch() == current.epoch()) {
                int index = b.indexOf(o.trainer);
                long start = b.sliceStart(index, o.step);
                out.addVirtual(b, start, start + b.sliceSize(index, o.step));
                o.requeuedAt = from;
            }
        }
        int[] rest = restOfEpoch(current, from, out.added);
        WorkPlan bridge = null;
        long restLength = RangeList.length(rest, rest.length);
        WorkPlan atJoin = joiner >= 0 && joinStep >= 0 && joinStep < from ? plans.floorEntry(joinStep).getValue() : null;
        if (atJoin != null && atJoin.covers(joinStep) && atJoin.epoch() == current.epoch() && rest.length > 0) {
            int withBatch = 0;
            for (int i = 0; i < atJoin.trainers().length; i++) {
                withBatch += atJoin.sliceSize(i, joinStep) > 0 ? 1 : 0;
            }
            long window = atJoin.windowStart(joinStep + 1) - atJoin.windowStart(joinStep);
            long batch = withBatch == 0 ? 0 : Math.round((double) window / withBatch);
            long need = batch * (from - joinStep);
            long total = restLength + out.length();
            // the plan after it keeps at least one sample per trainer and step
            if (batch > 0 && need <= restLength && total - need >= (current.to() - from) * trainers.length) {
                WorkPlan all = new WorkPlan(runId, -1, current.epoch(), from, from + 1, rest, trainers, weights, scale, 0);
                int[] tail = new int[rest.length + 2];
                int[] head = new int[rest.length + 2];
                int t = all.rangesOf(restLength - need, restLength, tail, 0);
                int h = all.rangesOf(0, restLength - need, head, 0);
                bridge = new WorkPlan(runId, nextId++, current.epoch(), joinStep, from, Arrays.copyOf(tail, t),
                        new int[] {joiner}, new int[] {1}, scale, leasedUntil);
                bridges.add(bridge);
                rest = Arrays.copyOf(head, h);
                // shard 0 may have committed its first steps already (the others' gradients, and a killed
                // trainer's last one, came first): those slices are orphans from the start
                for (long step = joinStep; step <= lastCommitted && step < from; step++) {
                    lastBridgeHandedOn++;
                    Orphan o = new Orphan(joiner, step);
                    o.requeuedAt = from;
                    orphans.add(o);
                    long start = bridge.sliceStart(0, step);
                    out.addVirtual(bridge, start, start + bridge.sliceSize(0, step));
                }
            }
        }
        for (int i = 0; i < rest.length; i += 2) {
            out.add(rest[i], rest[i + 1]);
        }
        WorkPlan p = new WorkPlan(runId, nextId++, current.epoch(), from, current.to(), out.toArray(), trainers, weights,
                scale, leasedUntil);
        plans.tailMap(from, true).clear();
        plans.put(from, p);
        settledBeforePlan.put(from, before);
        lastBridge = bridge;
        return p;
    }

    /** The bridge the last {@link #replan} made, or null. */
    WorkPlan lastBridge() {
        return lastBridge;
    }

    /** How many of {@link #lastBridge}'s first steps shard 0 had committed already (handed on at once). */
    int lastBridgeHandedOn() {
        return lastBridgeHandedOn;
    }

    /**
     * Shard 0 committed step {@code step} with {@code contributors}' gradients in it (after
     * {@link #served} for each). Every slice of that step a plan or bridge gave to a trainer whose
     * gradient is not in the commit is orphaned: a joiner's bridge slice (the shard closed the step
     * before it counted the joiner in its quorum), a gone trainer's slice it reported as pushed but
     * whose frames never reached shard 0 (killed mid-send), a live trainer's slice the shard closed
     * without at its deadline. The step is closed, so that gradient can never count any more: true
     * when there are such slices, to hand on with a {@link #replan} ({@link #lastOrphaned} names them).
     * A bridge made after shard 0 committed its first step(s) has those slices orphaned at once.
     */
    boolean committed(long step, Set<Integer> contributors) {
        lastCommitted = Math.max(lastCommitted, step);
        lastOrphaned.clear();
        for (WorkPlan b : bridges) {
            int t = b.trainers()[0];
            if (b.covers(step) && !contributors.contains(t) && b.sliceSize(0, step) > 0 && !isOrphaned(t, step)) {
                orphans.add(new Orphan(t, step));
                lastOrphaned.add(t);
            }
        }
        Map.Entry<Long, WorkPlan> e = plans.floorEntry(step);
        WorkPlan p = e == null ? null : e.getValue();
        if (p != null && p.covers(step)) {
            for (int i = 0; i < p.trainers().length; i++) {
                int t = p.trainers()[i];
                if (p.sliceSize(i, step) > 0 && !contributors.contains(t) && bridgeOf(t, step) == null
                        && !isOrphaned(t, step)) {
                    orphans.add(new Orphan(t, step));
                    lastOrphaned.add(t);
                }
            }
        }
        return !lastOrphaned.isEmpty();
    }

    /** The trainers whose slices the last {@link #committed} orphaned. */
    List<Integer> lastOrphaned() {
        return lastOrphaned;
    }

    private boolean isOrphaned(int trainer, long step) {
        for (Orphan o : orphans) {
            if (o.trainer == trainer && o.step == step) {
                return true;
            }
        }
        return false;
    }

    /**
     * Adds trainer {@code t}'s slices of {@code p} in steps [lo, hi) that shard 0 has not committed
     * to the plan from {@code from}, unless handed on already. A slice handed on so is orphaned from
     * then on: a bridge no longer holds its samples (see {@link #restOfEpoch}), and shard 0's commit
     * of its step without it does not hand it on again ({@link #committed}).
     */
    private void requeue(WorkPlan p, int index, int t, long lo, long hi, RangeList out, long from) {
        for (long s = lo; s < hi; s++) {
            int size = p.sliceSize(index, s);
            if (size > 0 && !audit.wasServed(t, s) && !isOrphaned(t, s)) {
                long start = p.sliceStart(index, s);
                out.addVirtual(p, start, start + size);
                Orphan o = new Orphan(t, s);
                o.requeuedAt = from;
                orphans.add(o);
            }
        }
    }

    /**
     * What is left of {@code current}'s epoch from step {@code from}, less what joiners' bridges
     * hold (after a rollback the plan before a bridge is current again, and its rest holds them)
     * and less {@code exclude} (already in the new plan).
     */
    private int[] restOfEpoch(WorkPlan current, long from, BitSet exclude) {
        int[] rest = new int[current.ranges().length + 2];
        int r = current.rangesOf(current.windowStart(from), current.length(), rest, 0);
        BitSet taken = (BitSet) exclude.clone();
        int[] slice = new int[8];
        for (WorkPlan b : bridges) {
            if (b.epoch() != current.epoch()) {
                continue;
            }
            if (slice.length < b.ranges().length + 2) {
                slice = new int[b.ranges().length + 2];
            }
            for (long s = b.from(); s < b.to(); s++) {
                if (!isOrphaned(b.trainers()[0], s)) {
                    long start = b.sliceStart(0, s);
                    int n = b.rangesOf(start, start + b.sliceSize(0, s), slice, 0);
                    for (int i = 0; i < n; i += 2) {
                        taken.set(slice[i], slice[i + 1]);
                    }
                }
            }
        }
        RangeList out = new RangeList(r + 8);
        out.added.or(taken);
        for (int i = 0; i < r; i += 2) {
            out.add(rest[i], rest[i + 1]);
        }
        return out.toArray();
    }

    /** A slice shard 0 committed without its trainer's gradient, or a gone trainer's slice handed on before. */
    private static final class Orphan {
        final int trainer;
        final long step;
        /** The step the plan that serves it starts at; -1 while it waits for one. */
        long requeuedAt = -1;

        Orphan(int trainer, long step) {
            this.trainer = trainer;
            this.step = step;
        }
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

    /**
     * What trainer {@code trainer} starting at {@code step} needs, in the order to send them: its
     * bridge when it has one that covers {@code step}, then the plans from the bridge's end.
     */
    List<WorkPlan> plansFor(int trainer, long step) {
        WorkPlan b = bridgeOf(trainer, step);
        if (b == null) {
            return plansFrom(step);
        }
        List<WorkPlan> out = new ArrayList<>();
        out.add(b);
        out.addAll(plansFrom(b.to()));
        return out;
    }

    /** Trainer {@code trainer}'s bridge that covers {@code step}, or null. */
    WorkPlan bridgeOf(int trainer, long step) {
        for (WorkPlan b : bridges) {
            if (b.trainers()[0] == trainer && b.covers(step)) {
                return b;
            }
        }
        return null;
    }

    /**
     * Shard 0 committed step {@code step} with trainer {@code trainer}'s gradient in it; returns the samples
     * its plan gave it in that step (0 when counted already, or no plan gave it any).
     */
    int served(int trainer, long step) {
        return audit.served(trainer, step);
    }

    /**
     * The plan that gave trainer {@code trainer} its slice of step {@code step}: its bridge when one
     * covers the step (a bridge comes before any plan of its steps: the trainer was sent it after
     * them), else the plan of the step if the trainer has a part in it; null when neither.
     */
    private WorkPlan planOf(int trainer, long step) {
        WorkPlan bridge = bridgeOf(trainer, step);
        if (bridge != null) {
            return bridge;
        }
        Map.Entry<Long, WorkPlan> e = plans.floorEntry(step);
        WorkPlan p = e == null ? null : e.getValue();
        return p != null && p.covers(step) && p.indexOf(trainer) >= 0 ? p : null;
    }

    /**
     * Every shard went back to step {@code cut}: what was served from there on is void, plans that
     * start after it are dropped (with what they requeued), and the lease ends at it (the trainers
     * rewind; a {@link #replan} from {@code cut} follows).
     */
    void rollback(long cut) {
        for (Long from : new ArrayList<>(plans.tailMap(cut, false).descendingKeySet())) {
            Map<Integer, Long> before = settledBeforePlan.remove(from);
            if (before != null) {
                settled.putAll(before);
            }
            plans.remove(from);
        }
        for (int i = bridges.size() - 1; i >= 0; i--) {
            WorkPlan b = bridges.get(i);
            if (b.from() >= cut) {
                bridges.remove(i);
            } else if (b.to() > cut) {
                // its steps before the cut stand (the same slices: its windows are equal)
                int[] kept = new int[b.ranges().length + 2];
                int n = b.rangesOf(0, b.windowStart(cut), kept, 0);
                bridges.set(i, new WorkPlan(runId, b.id(), b.epoch(), b.from(), cut, Arrays.copyOf(kept, n),
                        b.trainers(), b.weights(), b.scale(), b.leasedUntil()));
            }
        }
        orphans.removeIf(o -> o.step >= cut);
        lastCommitted = Math.min(lastCommitted, cut - 1);
        for (Orphan o : orphans) {
            if (o.requeuedAt > cut) {
                o.requeuedAt = -1; // the plan that served it is void: it waits for the next one again
            }
        }
        audit.rollback(cut);
        leasedUntil = cut;
        lastSentLease = cut;
    }

    /** Epochs that end at or before {@code step} can no longer change (no rollback goes below it): counted. */
    void closeBefore(long step) {
        long end = audit.closeBefore(step);
        if (end < 0) {
            return;
        }
        bridges.removeIf(b -> b.to() <= end);
        orphans.removeIf(o -> o.step < end);
        plans.headMap(end, false).entrySet().removeIf(p -> p.getValue().to() <= end);
    }

    Summary summary() {
        return audit.summary(nextId);
    }
}
