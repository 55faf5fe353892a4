package io.tributary.coordinator;

import io.tributary.coordinator.Roster.Member;
import io.tributary.protocol.ConsistencyPolicy;
import io.tributary.protocol.TrainerProtocol.LeaseExtended;
import io.tributary.protocol.WorkPlan;
import io.tributary.ps.shard.ShardSettings;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;

/**
 * Hands the work plans {@link WorkPlanner} makes to the trainers: a new plan when the roster
 * changes, the next epoch's plans and the leases as the run progresses, the plans a (re)starting
 * trainer needs, and batches sized by speed ({@link AdaptiveBatches}).
 */
final class WorkDispatch {

    private final TrainingCoordinator.Settings settings;
    private final Roster roster;
    private final Recovery recovery;
    private final RunView run;
    private final RunListener listener;
    private final Logger log;
    private WorkPlanner planner;
    private long lastAdaptStep;
    /** Bounded staleness: the slowest trainer's steps as last told (-1 before the first). */
    private long lastFloor = -1;

    WorkDispatch(TrainingCoordinator.Settings settings, Roster roster, Recovery recovery, RunView run,
                 RunListener listener, Logger log) {
        this.settings = settings;
        this.roster = roster;
        this.recovery = recovery;
        this.run = run;
        this.listener = listener;
        this.log = log;
    }

    /**
     * The lease in steps: {@code lease-steps}, but at most {@link #LOCAL_SGD_LEASE} rounds under local
     * SGD. A round is an epoch's ninth at the default H, so a lease of 8 rounds reached the next epoch
     * almost at once, and a new plan, which starts at the lease, could no longer hand a gone trainer's
     * undelivered rounds of the epoch to the others: a kill under local SGD lost 8 rounds of its slices
     * (17,472 samples in `capped-local-sgd.conf`). A trainer cannot run more than one round ahead
     * under local SGD anyway: the next round needs the parameters this one makes.
     */
    static int leaseSteps(int configured, ConsistencyPolicy policy) {
        return policy == ConsistencyPolicy.LOCAL_SGD ? Math.min(configured, LOCAL_SGD_LEASE) : configured;
    }

    /** The longest lease, in rounds, under local SGD. */
    static final int LOCAL_SGD_LEASE = 2;

    /** The run starts at step {@code first}: the planner and the first plan, which every trainer gets with its assignment. */
    WorkPlan start(int stepsPerEpoch, int globalBatch, long totalSteps, long first, boolean meanRule) {
        planner = new WorkPlanner(settings.runId(), stepsPerEpoch, globalBatch, totalSteps,
                leaseSteps(settings.work().leaseSteps(), settings.shards().policy()), meanRule);
        lastAdaptStep = first;
        lastFloor = first > 0 ? first - 1 : -1;
        int[][] tw = roster.planMembers();
        return planner.start(first, tw[0], tw[1]);
    }

    /** A coordinator takes the run over: the planner and adaptive-batch and floor marks as its predecessor stored them. */
    void restore(WorkPlanner stored, long adaptedAt, long floor) {
        planner = stored;
        lastAdaptStep = adaptedAt;
        lastFloor = floor;
    }

    long lastAdaptStep() {
        return lastAdaptStep;
    }

    /** The planner (null before the start). */
    WorkPlanner planner() {
        return planner;
    }

    long lastFloor() {
        return lastFloor;
    }

    void floor(long floor) {
        lastFloor = floor;
    }

    /**
     * A new work plan from the lease on, for the live trainers: the gone ones' undelivered slices
     * are in it. Every live trainer but {@code except} (told with its assignment) gets it.
     */
    void replan(String why, Member except) {
        replan(why, except, null, -1);
    }

    /**
     * {@link #replan(String, Member)}; a trainer {@code joiner} that joins at step {@code joinStep}
     * also gets a bridge for the steps already leased to the others (see {@link WorkPlanner#replan}),
     * so that it computes on samples from its first step.
     */
    void replan(String why, Member except, Member joiner, long joinStep) {
        if (planner == null || run.finished()) {
            return;
        }
        int[][] tw = roster.planMembers();
        if (tw[0].length == 0) {
            log.warn("no live trainer to plan the work for ({}): the run waits for one", why);
            return;
        }
        long from = planner.leasedUntil();
        WorkPlan p = planner.replan(tw[0], tw[1], roster.gone(), joiner == null ? -1 : joiner.id, joinStep);
        roster.handedOn(from);
        WorkPlan bridge = planner.lastBridge();
        if (bridge != null) {
            int handedOn = planner.lastBridgeHandedOn();
            announce(bridge, "trainer " + joiner.id + "'s first steps, until the next plan" + (handedOn == 0 ? ""
                    : "; shard 0 had committed its first " + handedOn + " step(s) already: their slices go to the plan"));
        }
        if (p != null) {
            broadcast(p, why, except);
        }
        extendLease();
    }

    private void broadcast(WorkPlan p, String why, Member except) {
        roster.tellListening(p, except);
        announce(p, why);
    }

    /** Says in the log and to the listener what a plan gives each trainer. */
    void announce(WorkPlan p, String why) {
        Map<Integer, Integer> batches = new TreeMap<>();
        for (int i = 0; i < p.trainers().length; i++) {
            batches.put(p.trainers()[i], p.sliceSize(i, p.from()));
        }
        log.info("work plan {} from step {} ({}): {} samples left in epoch {}, batches by trainer {}",
                p.id(), p.from(), why, p.length() - p.windowStart(p.from()), p.epoch(), batches);
        listener.workPlanned(p.id(), p.from(), why, batches);
    }

    /** Lets the trainers compute further as the run progresses (with the next epoch's plan when due). */
    void extendLease() {
        if (planner == null || run.finished() || recovery.rollingBack()) {
            return;
        }
        long progress = settings.shards().policy().synchronous() ? run.committedSteps()
                : Math.max(lastFloor, 0) + settings.shards().staleness() + 1;
        int[][] tw = roster.planMembers();
        if (tw[0].length == 0) {
            return;
        }
        WorkPlanner.Extension x = planner.extend(progress, tw[0], tw[1]);
        if (x == null) {
            return;
        }
        for (WorkPlan p : x.plans()) {
            broadcast(p, "epoch " + p.epoch(), null);
        }
        roster.tellListening(new LeaseExtended(settings.runId(), x.until()), null);
    }

    /** What a trainer starting at {@code from} needs of the work plans (its bridge first), and the lease. */
    void sendPlans(Member m, long from) {
        for (WorkPlan p : planner.plansFor(m.id, from)) {
            m.ref.tell(p);
        }
        m.ref.tell(new LeaseExtended(settings.runId(), planner.leasedUntil()));
    }

    /**
     * Adaptive batches ({@link AdaptiveBatches}): every {@code adaptive-every-steps} steps the
     * trainers' weights follow their measured speeds; a new plan when one moved by more than a fifth.
     */
    void maybeAdapt() {
        WorkSettings w = settings.work();
        if (!w.adaptive() || planner == null || recovery.rollingBack()
                || run.committedSteps() - lastAdaptStep < w.adaptiveEverySteps()) {
            return;
        }
        lastAdaptStep = run.committedSteps();
        List<Member> members = roster.active();
        int[] weights = new int[members.size()];
        double[] times = new double[members.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = members.get(i).weight;
            times[i] = members.get(i).stepNanos;
        }
        int[] next = AdaptiveBatches.reweigh(weights, times, w.adaptiveMinShare());
        if (next == null) {
            return;
        }
        StringBuilder shown = new StringBuilder();
        for (int i = 0; i < next.length; i++) {
            Member m = members.get(i);
            shown.append(i == 0 ? "" : ", ").append(m.id).append(": ")
                    .append(String.format(Locale.ROOT, "%.1f ms", m.stepNanos / 1e6));
            m.weight = next[i];
        }
        replan("batches sized by speed (compute per step: " + shown + ")", null);
    }
}
