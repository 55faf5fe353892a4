package io.tributary.ps.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StepQuorumTest {

    @Test
    void aStepClosesWhenEveryQuorumMemberContributed() {
        StepQuorum q = new StepQuorum();
        assertTrue(q.update(1, Set.of(0, 1, 2), 0));
        assertFalse(q.enough(), "nobody yet");
        q.slotReady(2);
        q.slotReady(0);
        assertTrue(q.open());
        assertFalse(q.enough(), "2 of 3");
        q.empty(1);
        assertTrue(q.enough(), "an empty contribution counts");
        assertEquals(List.of(2, 0), q.readySlots(), "slots to aggregate, in arrival order, without the empty one");
        assertEquals(3, q.contributorCount());
    }

    @Test
    void backupTrainersMayBeMissingButNeverAll() {
        StepQuorum q = new StepQuorum();
        q.update(1, Set.of(0, 1, 2, 3), 1);
        q.slotReady(0);
        q.slotReady(1);
        assertFalse(q.enough(), "2 of 4 with one backup");
        q.slotReady(3);
        assertTrue(q.enough(), "3 of 4 with one backup");
        StepQuorum lone = new StepQuorum();
        lone.update(1, Set.of(5), 3); // backup larger than the quorum: one contribution is still needed
        assertFalse(lone.enough());
        lone.slotReady(5);
        assertTrue(lone.enough());
    }

    @Test
    void contributorsOutsideTheQuorumDoNotCount() {
        StepQuorum q = new StepQuorum();
        q.update(1, Set.of(0, 1), 0);
        q.slotReady(0);
        q.slotReady(7);
        assertFalse(q.enough());
        assertFalse(new StepQuorum().enough(), "no quorum yet: never enough");
    }

    @Test
    void onlyANewerGenerationReplacesTheQuorum() {
        StepQuorum q = new StepQuorum();
        assertTrue(q.update(3, Set.of(0, 1), 0));
        assertFalse(q.update(3, Set.of(0), 0));
        assertFalse(q.update(2, Set.of(0), 0));
        assertEquals(Set.of(0, 1), q.quorum());
        assertTrue(q.update(4, Set.of(1), 1));
        assertEquals(1, q.backup());
        q.slotReady(1);
        q.clear();
        assertFalse(q.open());
        assertEquals(List.of(), q.readySlots());
    }
}
