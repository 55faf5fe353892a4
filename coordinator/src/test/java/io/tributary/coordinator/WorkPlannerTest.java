package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.WorkPlan;
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

    /**
     * Local SGD: 9 rounds an epoch. A trainer gone after round 0 under the configured lease of 8: the
     * lease already reaches the epoch's end after round 0, a new plan starts in the next epoch, and its
     * rounds 1..8 of this epoch are never trained. Under the local-SGD lease (2 rounds) the new plan
     * starts at round 3 of this epoch and carries them.
     */
    @Test
    void underLocalSgdsShortLeaseAGoneTrainersRoundsStayInTheirEpoch() {
        assertEquals(2, WorkDispatch.leaseSteps(8, io.tributary.protocol.ConsistencyPolicy.LOCAL_SGD));
        assertEquals(8, WorkDispatch.leaseSteps(8, io.tributary.protocol.ConsistencyPolicy.SYNC));
        assertEquals(1, WorkDispatch.leaseSteps(1, io.tributary.protocol.ConsistencyPolicy.LOCAL_SGD));
        assertEquals(0, missedAfterADeathInRoundOne(2), "the short lease loses nothing");
        assertEquals(8 * 126 / 3, missedAfterADeathInRoundOne(8), "the long lease loses rounds 1..8 of one trainer");
    }

    /** Samples never trained in a 9-round epoch of 3 trainers (126 samples a round) when trainer 2 dies after round 0. */
    private static long missedAfterADeathInRoundOne(int lease) {
        int rounds = 9;
        int perRound = 126;
        int[] three = {0, 1, 2};
        int[] equal = {1000, 1000, 1000};
        WorkPlanner planner = new WorkPlanner(1, rounds, perRound, rounds, lease, true);
        List<WorkPlan> plans = new java.util.ArrayList<>(List.of(planner.start(0, three, equal)));
        serveStep(planner, plans, 0);
        WorkPlanner.Extension x = planner.extend(1, three, equal);
        if (x != null) {
            plans.addAll(x.plans());
        }
        // trainer 2 is dead: its round 1 never comes; the coordinator notices and replans
        WorkPlan next = planner.replan(new int[] {0, 1}, new int[] {1000, 1000}, Map.of(2, 1L));
        if (next != null) {
            plans.add(next);
        }
        for (long s = 1; s < rounds; s++) {
            serveStep(planner, plans, s, 2);
        }
        planner.closeBefore(rounds);
        WorkPlanner.Summary a = planner.summary();
        assertEquals(0, a.twice(), "none trained twice");
        return a.missed();
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

    private static final int JSPE = 20;
    private static final int JG = 120;
    private static final int[] EQUAL3 = {1000, 1000, 1000};

    /** Three trainers from step 0, served and leased (lease 4) up to {@code steps}. */
    private static WorkPlanner threeTrainersServedUpTo(List<WorkPlan> plans, long steps) {
        WorkPlanner planner = new WorkPlanner(1, JSPE, JG, 2 * JSPE, 4, true);
        plans.add(planner.start(0, new int[] {0, 1, 2}, EQUAL3));
        for (long s = 0; s < steps; s++) {
            serveStep(planner, plans, s);
            WorkPlanner.Extension x = planner.extend(s + 1, new int[] {0, 1, 2}, EQUAL3);
            if (x != null) {
                plans.addAll(x.plans());
            }
        }
        return planner;
    }

    private static final int[] FOUR = {0, 1, 2, 3};

    /** Shard 0 commits steps [from, to) with the plans' trainers, and joiner 3 where a bridge of its covers the step. */
    private static void serveWithJoiner(WorkPlanner planner, List<WorkPlan> plans, long from, long to) {
        for (long s = from; s < to; s++) {
            serveStep(planner, plans, s);
            if (planner.bridgeOf(3, s) != null) {
                planner.served(3, s);
            }
        }
    }

    private static void assertEveryFirstEpochSampleOnce(WorkPlanner planner) {
        planner.closeBefore(JSPE);
        WorkPlanner.Summary a = planner.summary();
        assertEquals(JSPE * JG, a.expected());
        assertEquals(JSPE * JG, a.trained(), "trained once: " + a);
        assertEquals(0, a.missed(), "none lost: " + a);
        assertEquals(0, a.twice(), "none twice: " + a);
        assertEquals(0, a.unplanned(), "every committed gradient had a slice: " + a);
    }

    @Test
    void aJoinerComputesOnSamplesFromItsFirstStepAndEverySampleIsStillTrainedOnce() {
        List<WorkPlan> plans = new java.util.ArrayList<>();
        WorkPlanner planner = threeTrainersServedUpTo(plans, 6);
        long lease = planner.leasedUntil();
        assertTrue(lease > 7, "the lease runs ahead of step 6: " + lease);
        WorkPlan next = planner.replan(FOUR, EQUAL4, Map.of(), 3, 6);
        WorkPlan bridge = planner.lastBridge();
        assertNotNull(bridge, "the joiner has a bridge");
        assertEquals(0, planner.lastBridgeHandedOn());
        assertEquals(6, bridge.from(), "from the step it joined at");
        assertEquals(lease, bridge.to(), "to the next plan");
        assertEquals(lease, next.from());
        for (long s = 6; s < lease; s++) {
            assertEquals(JG / 3, bridge.sliceSize(0, s), "one mean batch of the plan it joined into");
            assertEquals(1f, bridge.scale(0, s));
        }
        assertEquals(bridge, planner.bridgeOf(3, 6));
        assertEquals(List.of(bridge, next), planner.plansFor(3, 6), "the joiner is sent its bridge, then the plan");
        assertEquals(List.of(plans.get(0), next), planner.plansFor(0, 6), "the others what they had");
        assertEquals((JSPE - lease) * JG - (lease - 6) * (JG / 3), next.length(), "the bridge's samples left the plan");
        plans.add(next);
        serveWithJoiner(planner, plans, 6, JSPE);
        assertEveryFirstEpochSampleOnce(planner);
    }

    @Test
    void aJoinerGoneInItsBridgeLeavesItsUndeliveredSlicesToTheOthers() {
        List<WorkPlan> plans = new java.util.ArrayList<>();
        WorkPlanner planner = threeTrainersServedUpTo(plans, 6);
        WorkPlan next = planner.replan(FOUR, EQUAL4, Map.of(), 3, 6);
        WorkPlan bridge = planner.lastBridge();
        serveStep(planner, plans, 6);
        planner.served(3, 6);
        // it dies having pushed step 6 only; the others close steps 7.. without it
        WorkPlan after = planner.replan(new int[] {0, 1, 2}, EQUAL3, Map.of(3, 7L));
        assertNull(planner.lastBridge());
        assertEquals(next.from(), after.from());
        assertEquals(next.length() + (bridge.to() - 7) * (JG / 3), after.length(),
                "its bridge slices of steps 7.. are in the plan after");
        plans.add(after);
        for (long s = 7; s < JSPE; s++) {
            serveStep(planner, plans, s);
        }
        assertEveryFirstEpochSampleOnce(planner);
    }

    @Test
    void aRollbackIntoABridgeKeepsItsStepsBeforeTheCutAndTrainsNothingTwice() {
        List<WorkPlan> plans = new java.util.ArrayList<>();
        WorkPlanner planner = threeTrainersServedUpTo(plans, 6);
        WorkPlan next = planner.replan(FOUR, EQUAL4, Map.of(), 3, 6);
        WorkPlan bridge = planner.lastBridge();
        assertTrue(bridge.to() > 8);
        for (long s = 6; s < 9; s++) {
            serveStep(planner, plans, s);
            planner.served(3, s);
        }
        planner.rollback(8); // steps 8.. void: the bridge keeps steps 6 and 7
        assertEquals(8, planner.bridgeOf(3, 7).to());
        assertNull(planner.bridgeOf(3, 8));
        WorkPlan again = planner.replan(FOUR, EQUAL4, Map.of());
        assertEquals(8, again.from());
        assertEquals((JSPE - 8) * JG - 2 * (JG / 3), again.length(), "the bridge's two kept steps are not served again");
        plans.remove(next);
        plans.add(again);
        for (long s = 8; s < JSPE; s++) {
            serveStep(planner, plans, s);
        }
        assertEveryFirstEpochSampleOnce(planner);
    }

    @Test
    void noBridgeWhereTheEpochHasTooLittleLeft() {
        List<WorkPlan> plans = new java.util.ArrayList<>();
        WorkPlanner planner = threeTrainersServedUpTo(plans, 17); // the lease reaches into the next epoch
        assertTrue(planner.leasedUntil() > JSPE);
        WorkPlan next = planner.replan(new int[] {0, 1, 2, 3}, EQUAL4, Map.of(), 3, 17);
        assertEquals(1, next.epoch());
        assertNull(planner.lastBridge(), "nothing of epoch 0 is left after the lease to bridge with");
        assertNull(planner.bridgeOf(3, 17));
        assertEquals(plans.get(0), planner.plansFor(3, 17).get(0), "it sends empty contributions until the plan");
    }

    @Test
    void aBridgeSliceCommittedWithoutItsJoinerIsHandedOnAndNotLost() {
        List<WorkPlan> plans = new java.util.ArrayList<>();
        WorkPlanner planner = threeTrainersServedUpTo(plans, 6);
        WorkPlan next = planner.replan(FOUR, EQUAL4, Map.of(), 3, 6);
        WorkPlan bridge = planner.lastBridge();
        // shard 0 closed step 6 before it counted the joiner: its gradient is not in the commit
        serveStep(planner, plans, 6);
        assertTrue(planner.committed(6, java.util.Set.of(0, 1, 2)), "its slice is orphaned");
        assertTrue(!planner.committed(6, java.util.Set.of(0, 1, 2)), "once");
        WorkPlan after = planner.replan(FOUR, EQUAL4, Map.of());
        assertEquals(next.length() + JG / 3, after.length(), "the orphaned slice is in the next plan");
        plans.add(after);
        for (long s = 7; s < JSPE; s++) {
            serveStep(planner, plans, s);
            if (bridge.covers(s)) {
                planner.served(3, s);
                assertTrue(!planner.committed(s, java.util.Set.of(0, 1, 2, 3)));
            }
        }
        assertEveryFirstEpochSampleOnce(planner);
    }

    @Test
    void anOrphanedSliceHandedOnIsHandedOnAgainWhenARollbackVoidsThePlanThatHadIt() {
        List<WorkPlan> plans = new java.util.ArrayList<>();
        WorkPlanner planner = threeTrainersServedUpTo(plans, 6);
        WorkPlan next = planner.replan(FOUR, EQUAL4, Map.of(), 3, 6);
        WorkPlan bridge = planner.lastBridge();
        serveStep(planner, plans, 6);
        planner.committed(6, java.util.Set.of(0, 1, 2));
        WorkPlan after = planner.replan(FOUR, EQUAL4, Map.of());
        plans.add(after);
        for (long s = 7; s < after.from() + 2; s++) {
            serveStep(planner, plans, s);
            if (bridge.covers(s)) {
                planner.served(3, s);
            }
            planner.extend(s + 1, FOUR, EQUAL4);
        }
        planner.rollback(7); // the plan that had the orphan (from the lease) is void, and so are steps 7..
        WorkPlan again = planner.replan(FOUR, EQUAL4, Map.of());
        assertEquals(7, again.from());
        plans.remove(next);
        plans.remove(after);
        plans.add(again);
        serveWithJoiner(planner, plans, 7, JSPE);
        assertEveryFirstEpochSampleOnce(planner);
    }

    /**
     * A trainer killed while it pushed step 6 got its gradient to shard 0 but not to the others:
     * shard 0 committed step 6, the run (all shards) did not, and a trainer joins "at step 6". Its
     * bridge slice of step 6 can never be in shard 0's commit: it is handed on at once. (A soak run
     * lost 64 samples so before this.)
     */
    @Test
    void aBridgeMadeAfterShardZeroCommittedItsFirstStepHandsThatSliceOnAtOnce() {
        List<WorkPlan> plans = new java.util.ArrayList<>();
        WorkPlanner planner = threeTrainersServedUpTo(plans, 6);
        for (long s = 0; s < 6; s++) {
            planner.committed(s, java.util.Set.of(0, 1, 2));
        }
        serveStep(planner, plans, 6);
        assertTrue(!planner.committed(6, java.util.Set.of(0, 1, 2)), "no bridge yet");
        WorkPlan next = planner.replan(FOUR, EQUAL4, Map.of(), 3, 6);
        WorkPlan bridge = planner.lastBridge();
        assertEquals(6, bridge.from());
        assertEquals(1, planner.lastBridgeHandedOn());
        assertEquals((JSPE - bridge.to()) * JG - (bridge.to() - 7) * (JG / 3), next.length(),
                "the plan keeps the bridge's step-6 slice");
        plans.add(next);
        for (long s = 7; s < JSPE; s++) {
            serveStep(planner, plans, s);
            if (bridge.covers(s)) {
                planner.served(3, s);
            }
            assertTrue(!planner.committed(s, java.util.Set.of(0, 1, 2, 3)));
        }
        assertEveryFirstEpochSampleOnce(planner);
    }

    /**
     * Trainer 2 reported step 4 as pushed and was killed before its frames reached shard 0 (its
     * embedded media driver died with them): the replan at its death hands on only its steps from 5,
     * and shard 0 later closes step 4 without it. That slice is handed on when shard 0 commits the
     * step (a trainer-churn chaos run lost 4 slices of 42 samples so before this).
     */
    @Test
    void aSliceReportedPushedThatNeverReachedShardZeroIsHandedOnWhenTheStepIsCommittedWithoutIt() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, SPE, 3, true);
        int[] four = {0, 1, 2, 3};
        List<WorkPlan> plans = new java.util.ArrayList<>(List.of(planner.start(0, four, EQUAL4)));
        for (long s = 0; s < 4; s++) {
            serveStep(planner, plans, s);
            assertTrue(!planner.committed(s, java.util.Set.of(0, 1, 2, 3)), "nothing orphaned while all deliver");
            planner.extend(s + 1, four, EQUAL4);
        }
        int[] three = {0, 1, 3};
        int[] equal3 = {1000, 1000, 1000};
        WorkPlan next = planner.replan(three, equal3, Map.of(2, 5L));
        plans.add(next);
        assertEquals((SPE - 7) * G + 2 * 32, next.length(), "its steps 5 and 6 are handed on at its death");
        serveStep(planner, plans, 4, 2);
        assertTrue(planner.committed(4, java.util.Set.of(0, 1, 3)), "its slice of step 4 never came");
        assertEquals(List.of(2), planner.lastOrphaned());
        WorkPlan after = planner.replan(three, equal3, Map.of(2, 5L));
        assertEquals(next.length() + 32, after.length(), "step 4's slice is in the next plan, and only it");
        plans.add(after);
        for (long s = 5; s < 7; s++) {
            serveStep(planner, plans, s, 2);
            assertTrue(!planner.committed(s, java.util.Set.of(0, 1, 3)), "handed on already at its death");
        }
        for (long s = 7; s < SPE; s++) {
            serveStep(planner, plans, s);
            assertTrue(!planner.committed(s, java.util.Set.of(0, 1, 3)));
        }
        planner.closeBefore(SPE);
        WorkPlanner.Summary a = planner.summary();
        assertEquals(SPE * G, a.expected());
        assertEquals(0, a.missed(), "no sample of the epoch lost");
        assertEquals(0, a.twice(), "none trained twice");
    }

    /** A live trainer's slice that shard 0 closed a step without (its deadline passed) is trained by the next plan. */
    @Test
    void aSliceAStepClosedWithoutAtItsDeadlineIsHandedOn() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, SPE, 3, true);
        int[] four = {0, 1, 2, 3};
        List<WorkPlan> plans = new java.util.ArrayList<>(List.of(planner.start(0, four, EQUAL4)));
        serveStep(planner, plans, 0, 1);
        assertTrue(planner.committed(0, java.util.Set.of(0, 2, 3)));
        assertTrue(!planner.committed(0, java.util.Set.of(0, 2, 3)), "once");
        plans.add(planner.replan(four, EQUAL4, Map.of()));
        for (long s = 1; s < SPE; s++) {
            serveStep(planner, plans, s);
            assertTrue(!planner.committed(s, java.util.Set.of(0, 1, 2, 3)));
            planner.extend(s + 1, four, EQUAL4);
        }
        planner.closeBefore(SPE);
        WorkPlanner.Summary a = planner.summary();
        assertEquals(0, a.missed(), "no sample of the epoch lost");
        assertEquals(0, a.twice(), "none trained twice");
    }
}
