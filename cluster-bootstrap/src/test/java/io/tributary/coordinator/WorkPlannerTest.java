package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.ps.protocol.WorkPlan;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkPlannerTest {

    private static final int SPE = 10;
    private static final int G = 128;
    private static final int[] EQUAL4 = {1000, 1000, 1000, 1000};

    /** Shard 0 commits step s with every trainer that has a batch in it under the planner's plans. */
    private static void serveStep(WorkPlanner planner, List<WorkPlan> plans, long s, int... except) {
        WorkPlan p = null;
        for (WorkPlan q : plans) {
            if (q.covers(s) && (p == null || q.from() >= p.from())) {
                p = q;
            }
        }
        assertNotNull(p, "no plan covers step " + s);
        for (int i = 0; i < p.trainers().length; i++) {
            int t = p.trainers()[i];
            if (java.util.Arrays.stream(except).noneMatch(x -> x == t) && p.sliceSize(i, s) > 0) {
                planner.served(t, s);
            }
        }
    }

    @Test
    void aFaultFreeEpochIsTrainedOnceAndTheNextEpochsPlanComesWithTheLease() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, 2 * SPE, 4, true);
        WorkPlan first = planner.start(0, new int[] {0, 1, 2, 3}, EQUAL4);
        assertEquals(4, first.leasedUntil());
        List<WorkPlan> plans = new java.util.ArrayList<>(List.of(first));
        for (long s = 0; s < SPE; s++) {
            serveStep(planner, plans, s);
            WorkPlanner.Extension x = planner.extend(s + 1, new int[] {0, 1, 2, 3}, EQUAL4);
            if (x != null) {
                plans.addAll(x.plans());
            }
        }
        assertEquals(2, plans.size(), "the second epoch's plan came with the lease");
        assertEquals(SPE, plans.get(1).from());
        assertEquals(1, plans.get(1).epoch());
        planner.closeBefore(SPE);
        WorkPlanner.Summary a = planner.summary();
        assertEquals(1, a.epochs());
        assertEquals(SPE * G, a.expected());
        assertEquals(SPE * G, a.trained());
        assertEquals(0, a.missed());
        assertEquals(0, a.twice());
    }

    @Test
    void aGoneTrainersUndeliveredSlicesAreTrainedByTheOthersAndNothingTwice() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, SPE, 3, true);
        List<WorkPlan> plans = new java.util.ArrayList<>(List.of(planner.start(0, new int[] {0, 1, 2, 3}, EQUAL4)));
        for (long s = 0; s < 4; s++) {
            serveStep(planner, plans, s);
            planner.extend(s + 1, new int[] {0, 1, 2, 3}, EQUAL4);
        }
        // step 4: trainer 2 pushed (reported) but shard 0 commits it only later; then it dies, steps 5.. close without it
        serveStep(planner, plans, 4, 2);
        serveStep(planner, plans, 5, 2);
        assertEquals(7, planner.leasedUntil());
        WorkPlan next = planner.replan(new int[] {0, 1, 3}, new int[] {1000, 1000, 1000}, Map.of(2, 5L));
        assertNotNull(next);
        assertEquals(7, next.from(), "the new plan starts at the lease");
        plans.add(next);
        planner.served(2, 4); // the late commit of its last pushed step
        serveStep(planner, plans, 6, 2);
        for (long s = 7; s < SPE; s++) {
            serveStep(planner, plans, s);
        }
        // trainer 2's slices of steps 5 and 6 (undelivered) plus the rest of the epoch went to 0, 1 and 3
        assertEquals((SPE - 7) * G + 2 * 32, next.length());
        assertTrue(next.sliceSize(0, 7) > 32, "the survivors' batches grew");
        planner.closeBefore(SPE);
        WorkPlanner.Summary a = planner.summary();
        assertEquals(SPE * G, a.expected());
        assertEquals(0, a.missed(), "no sample of the epoch lost");
        assertEquals(0, a.twice(), "none trained twice");
    }

    @Test
    void theAuditCatchesASliceTrainedTwiceAndOneNeverTrained() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, SPE, 3, false);
        List<WorkPlan> plans = new java.util.ArrayList<>(List.of(planner.start(0, new int[] {0, 1, 2, 3}, EQUAL4)));
        serveStep(planner, plans, 0);
        serveStep(planner, plans, 1, 2);
        serveStep(planner, plans, 2, 2);
        // trainer 2 is reported gone from step 1 on although its step 1 commit is still to come
        plans.add(planner.replan(new int[] {0, 1, 3}, new int[] {1000, 1000, 1000}, Map.of(2, 1L)));
        planner.served(2, 1); // arrives after the replan requeued it: twice
        for (long s = 3; s < SPE; s++) {
            serveStep(planner, plans, s, s == 5 ? 3 : -1); // trainer 3's slice of step 5 never committed: lost
        }
        planner.closeBefore(SPE);
        WorkPlanner.Summary a = planner.summary();
        assertEquals(32, a.twice());
        assertTrue(a.missed() > 0, "the slice never committed is counted as lost: " + a);
    }

    @Test
    void aRollbackVoidsWhatWasServedAfterTheCutAndTheReplanFromItCoversTheRest() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, SPE, 3, true);
        int[] all = {0, 1, 2, 3};
        List<WorkPlan> plans = new java.util.ArrayList<>(List.of(planner.start(0, all, EQUAL4)));
        for (long s = 0; s < 6; s++) {
            serveStep(planner, plans, s);
            planner.extend(s + 1, all, EQUAL4);
        }
        planner.rollback(4);
        assertEquals(4, planner.leasedUntil());
        WorkPlan again = planner.replan(all, EQUAL4, Map.of());
        assertEquals(4, again.from());
        plans.add(again);
        for (long s = 4; s < SPE; s++) {
            serveStep(planner, plans, s);
        }
        planner.closeBefore(SPE);
        WorkPlanner.Summary a = planner.summary();
        assertEquals(0, a.missed());
        assertEquals(0, a.twice(), "steps 4 and 5 done again are not counted twice");
        assertEquals(SPE * G, a.trained());
    }

    @Test
    void aReplanAtTheRunsEndIsNone() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, SPE, 20, true);
        planner.start(0, new int[] {0, 1}, new int[] {1000, 1000});
        assertEquals(SPE, planner.leasedUntil());
        assertNull(planner.replan(new int[] {0}, new int[] {1000}, Map.of(1, 3L)));
    }

    /**
     * Whatever the phase of the lease (a rollback moves it), the lease the trainers were told always
     * reaches beyond the run's progress until the end: a run stalled at its last steps once because
     * the final, shorter extension was held back.
     */
    @Test
    void theLeaseTheTrainersKnowAlwaysReachesPastTheProgress() {
        int total = 3 * SPE + 7;
        for (int lease = 1; lease <= 9; lease++) {
            for (int cut = 0; cut < total; cut += 5) {
                WorkPlanner planner = new WorkPlanner(1, SPE, G, total, lease, true);
                int[] t = {0, 1};
                int[] w = {1000, 1000};
                long told = planner.start(0, t, w).leasedUntil();
                for (long progress = 0; progress < total; progress++) {
                    if (progress == cut && cut > 0) {
                        planner.rollback(cut);
                        told = planner.replan(t, w, Map.of()).leasedUntil();
                    }
                    WorkPlanner.Extension x = planner.extend(progress, t, w);
                    if (x != null) {
                        told = Math.max(told, x.until());
                    }
                    assertTrue(told > progress, "lease " + lease + ", cut " + cut + ": the trainers know a lease until "
                            + told + " at progress " + progress);
                }
            }
        }
    }
}
