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
}
