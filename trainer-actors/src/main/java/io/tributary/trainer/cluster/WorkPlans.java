package io.tributary.trainer.cluster;

import io.tributary.protocol.WorkPlan;
import java.util.Map;
import java.util.TreeMap;

/**
 * A trainer's work plans and lease: the plan each step is computed under (a plan holds from its
 * first step on and replaces any plan from there), how far the trainer may compute, and which steps'
 * batches it has asked the input pipeline for. Not thread-safe: it belongs to the {@link TrainerActor}.
 */
final class WorkPlans {

    /** Where batches are gathered (the input pipeline). */
    interface BatchSource {
        /** Asks for step {@code step}'s batch of the trainer at {@code index} in {@code plan} (-1: none). */
        void request(long step, WorkPlan plan, int index);
    }

    /** The plans by first step: the one for step s is the last from at or before s. */
    private final TreeMap<Long, WorkPlan> plans = new TreeMap<>();
    private int trainerId = -1;
    private long startStep;
    private long leasedUntil;
    /** Batches asked for are those of steps [the step in hand, requestedUpTo). */
    private long requestedUpTo;

    /** Trainer {@code trainerId} starts at {@code step} (its assignment): plans that end before it are dropped. */
    void start(int trainerId, long step) {
        this.trainerId = trainerId;
        this.startStep = step;
        this.requestedUpTo = step;
        plans.headMap(step, false).entrySet().removeIf(e -> e.getValue().to() <= step);
    }

    /**
     * Takes plan {@code p} while the trainer is at step {@code step}. A plan never starts below a
     * step the trainer was leased, so no batch already gathered changes.
     *
     * @return false when {@code p} was known already (sent again, with a registration's answer): only
     *     its lease counts
     * @throws IllegalStateException when {@code p} starts below a step whose batch was gathered under
     *     the plan before it (the trainer restarts to register again)
     */
    boolean add(WorkPlan p, long step) {
        WorkPlan known = plans.get(p.from());
        if (known != null && known.id() == p.id()) {
            leasedUntil = Math.max(leasedUntil, p.leasedUntil());
            return false;
        }
        if (p.from() < requestedUpTo && requestedUpTo > startStep) {
            throw new IllegalStateException("work plan " + p.id() + " starts at step " + p.from() + " but this trainer "
                    + "already gathered the batches up to step " + requestedUpTo + " under the plan before it; "
                    + "restarting to register again");
        }
        plans.tailMap(p.from(), true).clear();
        plans.put(p.from(), p);
        while (plans.size() > 1 && plans.firstEntry().getValue().to() <= step) {
            plans.pollFirstEntry();
        }
        leasedUntil = Math.max(leasedUntil, p.leasedUntil());
        return true;
    }

    /** The lease reaches step {@code until} now; true when that is further than before. */
    boolean extendLease(long until) {
        if (until <= leasedUntil) {
            return false;
        }
        leasedUntil = until;
        return true;
    }

    /** The first step the trainer may not compute yet. */
    long leasedUntil() {
        return leasedUntil;
    }

    /** The plan step {@code s} is computed under, or null when none has come yet. */
    WorkPlan planFor(long s) {
        Map.Entry<Long, WorkPlan> e = plans.floorEntry(s);
        return e != null && e.getValue().covers(s) ? e.getValue() : null;
    }

    /**
     * The factor for this trainer's gradient of step {@code s} (the plan's, see
     * {@link WorkPlan#scale(int, long)}); 1 when no plan covers it.
     */
    float scale(long s) {
        WorkPlan plan = planFor(s);
        return plan == null ? 1f : plan.scale(plan.indexOf(trainerId), s);
    }

    /**
     * Asks {@code source} for the batches of the steps up to {@code step + 1}, the trainer being at
     * {@code step}, as far as the plans, the lease and the run ({@code totalSteps}) reach.
     */
    void requestBatches(long step, long totalSteps, BatchSource source) {
        while (requestedUpTo < step + 2 && requestedUpTo < leasedUntil && requestedUpTo < totalSteps) {
            WorkPlan plan = planFor(requestedUpTo);
            if (plan == null) {
                return; // the next plan (a new epoch, or after a change) is on its way with the lease
            }
            source.request(requestedUpTo, plan, plan.indexOf(trainerId));
            requestedUpTo++;
        }
    }
}
