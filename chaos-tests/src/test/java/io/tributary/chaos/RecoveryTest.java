package io.tributary.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The recovery checker's clock, on made-up progress samples (one every 0.25 s). */
class RecoveryTest {

    private static List<ChaosRunner.Sample> samples(long[] steps) {
        List<ChaosRunner.Sample> s = new ArrayList<>();
        for (int i = 0; i < steps.length; i++) {
            s.add(new ChaosRunner.Sample(i * 0.25, steps[i], 3));
        }
        return s;
    }

    private static long[] ramp(long[] prefix, int stallSamples, long from, int after) {
        long[] r = new long[prefix.length + stallSamples + after];
        System.arraycopy(prefix, 0, r, 0, prefix.length);
        long last = prefix[prefix.length - 1];
        for (int i = 0; i < stallSamples; i++) {
            r[prefix.length + i] = last;
        }
        for (int i = 0; i < after; i++) {
            r[prefix.length + stallSamples + i] = from + i;
        }
        return r;
    }

    @Test
    void aKilledTrainerStallsTheRunUntilItLeavesTheQuorum() {
        // progress until 2.0 s (the kill), 20 s without, then progress again at 22.25 s
        long[] steps = ramp(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 80, 10, 20);
        assertEquals(22.25, ChaosRunner.recoveredAt(samples(steps), 2.0, 2.0), 1e-9);
    }

    @Test
    void aPsFailoverCountsUntilTheRunIsPastWhereItWasBeforeTheRollback() {
        // step 9 just after the fault at 2.0 s, a stall, a rollback to step 5, and progress from there
        long[] head = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        long[] stalled = ramp(head, 40, 5, 30); // 5, 6, ... climbs back past 9 at step 10
        double t = 1.95;
        int firstPast = head.length + 40 + 5; // step 10
        assertEquals(firstPast * 0.25, ChaosRunner.recoveredAt(samples(stalled), t, t), 1e-9);
    }

    @Test
    void aShortPauseWhoseStallEndedWithTheFaultRecoversAtOnce() {
        // stalled from 1.0 s (SIGSTOP at 1.1 s) to 9.0 s (SIGCONT at 8.9 s), progress at once after
        long[] steps = ramp(new long[] {1, 2, 3, 4, 5}, 32, 6, 20);
        assertEquals(9.25, ChaosRunner.recoveredAt(samples(steps), 1.1, 8.9), 1e-9);
        assertNull(ChaosRunner.recoveredAt(samples(new long[] {1, 2, 3, 3, 3}), 0.6, 0.6));
    }

    @Test
    void aGapInProgressThatBeganBeforeAKillIsNotItsStall() {
        // progress reports paused 1.0..3.5 s (the coordinator evaluating); the kill at 3.0 s stalls the run
        // from 3.75 s for 20 s
        long[] steps = {1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 6};
        long[] all = ramp(steps, 80, 7, 10);
        int end = steps.length + 80;
        assertEquals(end * 0.25, ChaosRunner.recoveredAt(samples(all), 3.0, 3.0), 1e-9);
    }

    @Test
    void aLoneStepThatTheFailoverCompletesDoesNotEndTheStall() {
        // steps 1..9 until 2.0 s, the kill at 2.0 s, step 10 (done before the kill) at 2.25 s, 20 s without
        // progress, step 11 alone at 22.5 s (the dead node's step, completed by the replica's promotion), 6 s
        // without, then steady progress from step 12 at 28.75 s
        long[] head = ramp(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 80, 11, 1);
        long[] all = ramp(head, 24, 12, 20);
        assertEquals(28.75, ChaosRunner.recoveredAt(samples(all), 2.0, 2.0), 1e-9);
        // a step every 2.5 s after the stall is the run's pace, not a second stall: the first one ends it
        long[] slow = ramp(head, 9, 12, 1);
        long[] slower = ramp(slow, 9, 13, 1);
        assertEquals(22.5, ChaosRunner.recoveredAt(samples(ramp(slower, 9, 14, 1)), 2.0, 2.0), 1e-9);
        // the second stall is an evaluation of step 11 that ends at 28.5 s: work, so step 11 ended the stall
        assertEquals(22.5, ChaosRunner.recoveredAt(samples(all), List.of(1.0, 28.5), List.of(2.0), 2.0, 2.0), 1e-9);
        // an evaluation ending early in the second stall leaves 2 s or more of it: still a lone step
        assertEquals(28.75, ChaosRunner.recoveredAt(samples(all), List.of(24.0), List.of(2.0), 2.0, 2.0), 1e-9);
        // another fault starting at 23.0 s, in the second stall: that stall may be its, so step 11 ended this one
        assertEquals(22.5, ChaosRunner.recoveredAt(samples(all), List.of(), List.of(2.0, 23.0), 2.0, 2.0), 1e-9);
    }

    @Test
    void aLoneStepEndsNoStallThatBeganJustBeforeTheFault() {
        // steps 1..9 until 2.0 s, the kill at 2.1 s (the run had stopped with it), step 10 alone at 22.5 s,
        // 6 s without progress, then steady progress from step 11 at 28.75 s
        long[] head = ramp(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 81, 10, 1);
        assertEquals(28.75, ChaosRunner.recoveredAt(samples(ramp(head, 24, 11, 20)), 2.1, 2.1), 1e-9);
        // the same stall ended by steady progress at once: its end is the recovery
        assertEquals(22.5, ChaosRunner.recoveredAt(samples(ramp(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 81, 10, 20)),
                2.1, 2.1), 1e-9);
    }
}
