package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UpdateAuditTest {

    @Test
    void anUnbrokenSequenceWithAHandOverIsClean() {
        UpdateAudit a = new UpdateAudit();
        for (long v = 1; v <= 10; v++) {
            assertNull(a.committed(0, v, "ps-1/a"));
            assertNull(a.committed(1, v, "ps-1/b"));
        }
        // shard 0 moves with its state: the new owner continues at 11
        assertNull(a.committed(0, 11, "ps-2/c"));
        UpdateAudit.Summary s = a.summary();
        assertTrue(s.clean(), s.toString());
        assertEquals(21, s.audited());
        assertEquals(1, s.ownerChanges());
    }

    @Test
    void aShardThatLostItsStateAndStartedOverIsCaughtAsDuplicates() {
        UpdateAudit a = new UpdateAudit();
        for (long v = 1; v <= 5; v++) {
            a.committed(0, v, "ps-1/a");
        }
        String wrong = a.committed(0, 1, "ps-1/z"); // restarted from the initial parameters
        assertNotNull(wrong);
        assertTrue(wrong.contains("version 1 committed again after version 5"), wrong);
        assertEquals(1, a.summary().duplicates());
        assertEquals(0, a.summary().lost());
    }

    @Test
    void aGapIsCountedAsLostUpdates() {
        UpdateAudit a = new UpdateAudit();
        a.committed(2, 1, "o");
        a.committed(2, 2, "o");
        assertNotNull(a.committed(2, 6, "o"));
        assertEquals(3, a.summary().lost());
        assertNull(a.committed(2, 7, "o"), "the sequence goes on from the gap");
    }

    @Test
    void aFormerOwnerCommittingAfterItsSuccessorIsAConflict() {
        UpdateAudit a = new UpdateAudit();
        a.committed(0, 1, "old");
        a.committed(0, 2, "new");
        String wrong = a.committed(0, 3, "old");
        assertNotNull(wrong);
        assertTrue(wrong.contains("two owners"), wrong);
        assertEquals(1, a.summary().conflicts());
        assertTrue(a.summary().firstProblem().contains("shard 0"));
    }
}
