package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.WorkPlan;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A trainer's plans, lease and batch requests, without an actor: trainer 5 of trainers {5, 6}. */
class WorkPlansTest {

    private static final int ME = 5;

    /** Steps asked for, as "step@index". */
    private final List<String> asked = new ArrayList<>();
    private final WorkPlans.BatchSource source = (step, plan, index) -> asked.add(step + "@" + index);

    /** Steps [from, to) over positions [0, 8 (to - from)), 8 per step, split by {@code weights}. */
    private static WorkPlan plan(int id, long from, long to, long leasedUntil, int... weights) {
        return new WorkPlan(1, id, 0, from, to, new int[] {0, (int) (8 * (to - from))}, new int[] {ME, 6}, weights,
                true, leasedUntil);
    }

    @Test
    void batchesAreAskedTwoStepsAheadAsFarAsTheLeaseReaches() {
        WorkPlans plans = new WorkPlans();
        plans.start(ME, 0);
        assertTrue(plans.add(plan(1, 0, 10, 4, 1, 1), 0));
        plans.requestBatches(0, 10, source);
        assertEquals(List.of("0@0", "1@0"), asked);
        plans.requestBatches(3, 10, source);
        assertEquals(List.of("0@0", "1@0", "2@0", "3@0"), asked, "the lease ends at step 4");
        assertFalse(plans.extendLease(3), "a shorter lease changes nothing");
        assertTrue(plans.extendLease(6));
        plans.requestBatches(3, 10, source);
        assertEquals("4@0", asked.get(asked.size() - 1));
        assertEquals(5, asked.size());
    }

    @Test
    void noBatchIsAskedBeyondTheRunOrWithoutAPlan() {
        WorkPlans plans = new WorkPlans();
        plans.start(ME, 8);
        plans.add(plan(1, 0, 9, 20, 1, 1), 8);
        plans.requestBatches(8, 9, source);
        assertEquals(List.of("8@0"), asked, "the run ends at step 9");

        WorkPlans unplanned = new WorkPlans();
        unplanned.start(ME, 0);
        unplanned.extendLease(5);
        unplanned.requestBatches(0, 10, source);
        assertEquals(1, asked.size(), "no plan yet: nothing to gather");
    }

    @Test
    void aPlanSentAgainOnlyRaisesTheLeaseAndALaterPlanReplacesTheRest() {
        WorkPlans plans = new WorkPlans();
        plans.start(ME, 0);
        WorkPlan first = plan(1, 0, 10, 2, 1, 1);
        plans.add(first, 0);
        assertFalse(plans.add(plan(1, 0, 10, 6, 1, 1), 0), "the same plan again");
        assertEquals(6, plans.leasedUntil());
        WorkPlan second = plan(2, 6, 10, 8, 1, 1);
        assertTrue(plans.add(second, 0));
        assertSame(first, plans.planFor(5));
        assertSame(second, plans.planFor(6));
        assertNull(plans.planFor(10), "no plan covers the epoch's end");
        assertEquals(8, plans.leasedUntil());
    }

    @Test
    void aPlanBelowTheBatchesGatheredUnderThePlanBeforeItIsRefused() {
        WorkPlans plans = new WorkPlans();
        plans.start(ME, 0);
        plans.add(plan(1, 0, 10, 4, 1, 1), 0);
        plans.requestBatches(0, 10, source); // steps 0 and 1 gathered
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> plans.add(plan(2, 1, 10, 4, 1, 1), 0));
        assertTrue(e.getMessage().startsWith("work plan 2 starts at step 1 but this trainer already gathered the "
                + "batches up to step 2"), e.getMessage());
    }

    @Test
    void aTrainerStartingLaterDropsThePlansThatEndedBefore() {
        WorkPlans plans = new WorkPlans();
        WorkPlan old = plan(1, 0, 4, 10, 1, 1);
        WorkPlan current = plan(2, 4, 10, 10, 1, 1);
        plans.add(old, 0);
        plans.add(current, 0);
        plans.start(ME, 5);
        assertNull(plans.planFor(2));
        assertSame(current, plans.planFor(5));
        assertTrue(plans.add(plan(3, 5, 10, 10, 1, 1), 5), "batches from the start step on are not gathered yet");
    }

    @Test
    void unequalBatchesScaleTheGradientSoThatTheMeanIsOverSamples() {
        WorkPlans plans = new WorkPlans();
        plans.start(ME, 0);
        assertEquals(1f, plans.scale(0), "no plan: as computed");
        plans.add(plan(1, 0, 10, 10, 3, 1), 0);
        // 8 samples a step: 6 for trainer 5, 2 for trainer 6; 6 · 2 trainers / 8 = 1.5
        assertEquals(1.5f, plans.scale(0));
        WorkPlans other = new WorkPlans();
        other.start(6, 0);
        other.add(plan(1, 0, 10, 10, 3, 1), 0);
        assertEquals(0.5f, other.scale(0)); // 2 · 2 / 8
        WorkPlans even = new WorkPlans();
        even.start(ME, 0);
        even.add(plan(1, 0, 10, 10, 1, 1), 0);
        assertEquals(1f, even.scale(3));
    }
}
