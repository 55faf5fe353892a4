package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientChecksumsTest {

    @Test
    void matchesEitherOrderAndReportsOnlyTheAlteredSlice() {
        List<String> bad = new ArrayList<>();
        GradientChecksums c = new GradientChecksums(3, (t, step, shard, sent, got) -> bad.add(t + "/" + step + "/" + shard));
        c.received(1, 7, 0, 100L);                   // shard first
        c.sent(1, 7, List.of(100L, 200L, 300L));      // then the trainer
        c.received(1, 7, 1, 200L);
        c.received(1, 7, 2, 301L);                    // altered on the way
        c.sent(2, 7, List.of(5L, 6L, 7L));
        c.received(2, 7, 0, 5L);
        assertEquals(4, c.compared());
        assertEquals(1, c.mismatches());
        assertEquals(List.of("1/7/2"), bad);
    }

    @Test
    void aFinishedTrainerStepIsForgotten() {
        GradientChecksums c = new GradientChecksums(1, (t, step, shard, sent, got) -> { });
        c.sent(0, 1, List.of(9L));
        c.received(0, 1, 0, 9L);
        c.received(0, 1, 0, 8L);                      // a late duplicate report has nothing to compare with
        assertEquals(1, c.compared());
        assertEquals(0, c.mismatches());
    }

    @Test
    void pastTheBoundTheOldestOneSidedStepsAreGivenUpAndCountedNotDroppedSilently() {
        GradientChecksums c = new GradientChecksums(1, (t, step, shard, sent, got) -> { });
        int n = GradientChecksums.MAX_PENDING;
        for (long step = 0; step < n; step++) {
            c.sent(0, step, java.util.List.of(step)); // the shard's side never comes
        }
        assertEquals(0, c.abandoned(), "at the bound nothing is given up yet");
        // one more: 100,001 pending, steps 0..100,000; the older half, the steps below the median 50,000, goes
        c.sent(0, n, java.util.List.of(1L));
        assertEquals(50_000, c.abandoned());
        // a late shard report of a recent step is still compared
        c.received(0, n - 1, 0, n - 1);
        assertEquals(1, c.compared());
        assertEquals(0, c.mismatches());
    }
}
