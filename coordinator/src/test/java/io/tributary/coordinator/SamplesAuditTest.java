package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.WorkPlan;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The samples audit on its own, under hand-made plans: 4 steps per epoch, 10 samples per step,
 * two trainers (7 and 8) with equal weights, so trainer 7 has positions [10 s, 10 s + 5) of step
 * s's epoch and trainer 8 the next 5.
 */
class SamplesAuditTest {

    private static final int SPE = 4;
    private static final int PER_STEP = 10;

    /** The plans the owner looks in: the last one that covers the step and has the trainer. */
    private final List<WorkPlan> plans = new ArrayList<>();
    private final SamplesAudit audit = new SamplesAudit(SPE, PER_STEP, 2L * SPE, (trainer, step) -> {
        WorkPlan found = null;
        for (WorkPlan p : plans) {
            if (p.covers(step) && p.indexOf(trainer) >= 0) {
                found = p;
            }
        }
        return found;
    });

    private static WorkPlan plan(int epoch, long from, long to, int[] ranges, int... trainers) {
        int[] weights = new int[trainers.length];
        java.util.Arrays.fill(weights, 1);
        return new WorkPlan(1, 0, epoch, from, to, ranges, trainers, weights, true, to);
    }

    private void serveEpochZero(long... skipStepOfTrainer8) {
        for (long s = 0; s < SPE; s++) {
            audit.served(7, s);
            long step = s;
            if (java.util.Arrays.stream(skipStepOfTrainer8).noneMatch(x -> x == step)) {
                audit.served(8, s);
            }
        }
    }

    @Test
    void anEpochServedOnceIsCountedWhenItClosesAndNotBefore() {
        plans.add(plan(0, 0, SPE, new int[] {0, 40}, 7, 8));
        audit.open(0, 0);
        serveEpochZero();
        assertEquals(-1, audit.closeBefore(SPE - 1), "the epoch ends at step 4");
        assertEquals(new WorkPlanner.Summary(0, 0, 0, 0, 0, 0, 1), audit.summary(1));
        assertEquals(SPE, audit.closeBefore(SPE));
        assertEquals(new WorkPlanner.Summary(1, 40, 40, 0, 0, 0, 1), audit.summary(1));
        assertFalse(audit.wasServed(7, 0), "a closed epoch's steps are forgotten");
    }

    @Test
    void aSliceNeverServedIsMissedAndOneServedUnderTwoPlansIsTwice() {
        plans.add(plan(0, 0, SPE, new int[] {0, 40}, 7, 8));
        // a joiner's bridge over step 1 whose slice is trainer 7's of step 0, [0, 5): trained twice
        plans.add(plan(0, 1, 2, new int[] {0, 5}, 9));
        audit.open(0, 0);
        serveEpochZero(2);
        audit.served(9, 1);
        audit.closeBefore(SPE);
        assertEquals(new WorkPlanner.Summary(1, 40, 35, 5, 5, 0, 2), audit.summary(2));
    }

    @Test
    void aCommitIsMarkedOnceHoweverOftenItIsReported() {
        plans.add(plan(0, 0, SPE, new int[] {0, 40}, 7, 8));
        audit.open(0, 0);
        serveEpochZero();
        serveEpochZero();
        assertTrue(audit.wasServed(8, 3));
        audit.closeBefore(SPE);
        assertEquals(0, audit.summary(1).twice());
    }

    /**
     * What a served slice is worth in credits: the samples its plan gave the trainer in that step (5 by
     * hand: 10 a step over two equal trainers), once; nothing for a repeat or a slice no plan gave.
     */
    @Test
    void aServedSliceIsWorthItsPlannedSamplesOnce() {
        plans.add(plan(0, 0, SPE, new int[] {0, 40}, 7, 8));
        audit.open(0, 0);
        assertEquals(5, audit.served(7, 0));
        assertEquals(5, audit.served(8, 0));
        assertEquals(0, audit.served(7, 0), "a commit reported again is not credited again");
        assertEquals(0, audit.served(5, 1), "no plan gave trainer 5 samples");
    }

    @Test
    void aTrainerWithoutAPlanOrAnEpochNotOpenIsUnplanned() {
        plans.add(plan(0, 0, SPE, new int[] {0, 40}, 7, 8));
        plans.add(plan(1, SPE, 2 * SPE, new int[] {0, 40}, 7, 8));
        audit.open(0, 0);
        audit.served(5, 0); // no plan has trainer 5
        audit.served(7, SPE); // epoch 1 is not open
        assertEquals(2, audit.summary(1).unplanned());
    }

    @Test
    void anEpochResumedMidwayExpectsOnlyThePositionsFromWhereItStarts() {
        plans.add(plan(1, SPE + 2, 2 * SPE, new int[] {20, 40}, 7, 8));
        audit.open(1, 20);
        for (long s = SPE + 2; s < 2 * SPE; s++) {
            audit.served(7, s);
            audit.served(8, s);
        }
        assertEquals(2 * SPE, audit.closeBefore(2 * SPE));
        assertEquals(new WorkPlanner.Summary(1, 20, 20, 0, 0, 0, 1), audit.summary(1));
    }

    @Test
    void aRollbackVoidsWhatWasServedFromTheCutAndMarksTheRestAgain() {
        plans.add(plan(0, 0, SPE, new int[] {0, 40}, 7, 8));
        plans.add(plan(0, 3, 4, new int[] {0, 5}, 9)); // trained twice at step 3, after the cut
        audit.open(0, 0);
        serveEpochZero();
        audit.served(9, 3);
        audit.rollback(2);
        assertFalse(audit.wasServed(7, 2));
        assertTrue(audit.wasServed(7, 1));
        plans.remove(1); // the planner drops what started after the cut
        audit.closeBefore(SPE);
        assertEquals(new WorkPlanner.Summary(1, 40, 20, 20, 0, 0, 1), audit.summary(1));
    }
}
