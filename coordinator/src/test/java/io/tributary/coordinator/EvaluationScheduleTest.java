package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvaluationScheduleTest {

    @Test
    void evaluatesAfterEachEpochAtTheEndAndEveryNSteps() {
        EvaluationSchedule s = new EvaluationSchedule(100, 250, 30);
        List<Long> at = new ArrayList<>();
        for (long step = 1; step <= 250; step++) {
            if (s.evaluatesAt(step)) {
                at.add(step);
            }
        }
        assertEquals(List.of(30L, 60L, 90L, 100L, 120L, 150L, 180L, 200L, 210L, 240L, 250L), at);
        EvaluationSchedule epochsOnly = new EvaluationSchedule(100, 300, 0);
        assertTrue(epochsOnly.evaluatesAt(200));
        assertFalse(epochsOnly.evaluatesAt(150));
        assertEquals(1, epochsOnly.epochOf(100));
        assertEquals(2, epochsOnly.epochOf(101));
        assertEquals(3, epochsOnly.epochOf(300));
    }

    @Test
    void oneEvaluationAtATimeInStepOrder() {
        EvaluationSchedule s = new EvaluationSchedule(10, 100, 0);
        assertNull(s.startNext());
        s.add(10, 10);
        s.add(20, 20);
        assertEquals(10, s.startNext().step());
        assertNull(s.startNext(), "one under way");
        assertEquals(10, s.done().step());
        assertEquals(20, s.startNext().step());
        assertEquals(20, s.done().step());
        assertNull(s.done());
    }

    @Test
    void aRollbackVoidsTheEvaluationsAfterTheCut() {
        EvaluationSchedule s = new EvaluationSchedule(10, 100, 0);
        s.add(10, 10);
        s.add(20, 20);
        s.add(30, 30);
        assertEquals(10, s.startNext().step());
        s.rollback(20);
        assertEquals(2, s.pending());
        assertEquals(10, s.startNext().step(), "the one under way is asked for again");
        assertThrows(IllegalArgumentException.class, () -> new EvaluationSchedule(0, 10, 0));
    }
}
