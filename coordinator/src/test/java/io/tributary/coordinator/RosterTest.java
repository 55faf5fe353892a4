package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RosterTest {

    @Test
    void trainersGetIdsInTheOrderTheyAreAdmittedUntilTheRunIsFull() {
        Roster r = new Roster(2);
        assertEquals(0, r.admit("node-a", null).id);
        assertEquals(1, r.admit("node-b", null).id);
        assertNotNull(r.refusal());
        assertTrue(r.refusal().contains("max-trainers = 2"));
        assertThrows(IllegalStateException.class, () -> r.admit("node-c", null));
        assertEquals("node-b", r.byId(1).nodeId);
        assertEquals(0, r.byIdentity("node-a").id);
    }

    @Test
    void aNodeHasOneTrainer() {
        Roster r = new Roster(4);
        r.admit("node-a", null);
        assertThrows(IllegalStateException.class, () -> r.admit("node-a", null));
    }

    @Test
    void aTrainerIsKeyedOnItsIdentityNotOnTheAddressItRegistersFrom() {
        Roster r = new Roster(4);
        Roster.Member m = r.admit("cert-alice", "pekko://tributary@127.0.0.1:4001", null);
        assertEquals(m, r.byIdentity("cert-alice"));
        assertNull(r.byIdentity("pekko://tributary@127.0.0.1:4001"), "an address is not an identity");
        assertThrows(IllegalStateException.class, () -> r.admit("cert-alice", "pekko://tributary@127.0.0.1:4002", null),
                "one identity, one trainer, whatever its address");
        assertEquals(1, r.admit("cert-bob", "pekko://tributary@127.0.0.1:4001", null).id);
    }

    @Test
    void goneAndQuarantinedTrainersLeaveThePlanAndTheirDoneStepsAreKept() {
        Roster r = new Roster(8);
        for (String n : new String[] {"a", "b", "c", "d"}) {
            r.admit(n, null);
        }
        r.byId(1).live = false;
        r.byId(1).doneSteps = 17;
        r.byId(3).quarantined = true;
        r.byId(3).live = false;
        r.byId(3).doneSteps = 5;
        r.byId(2).weight = 600;
        assertArrayEquals(new int[][] {{0, 2}, {1000, 600}}, r.planMembers());
        assertEquals(Map.of(1, 17L, 3, 5L), r.gone());
        assertEquals(Set.of(0, 2), r.quorum());
        assertEquals(2, r.liveCount());
    }

    @Test
    void theSlowestLiveTrainerSetsTheFloor() {
        Roster r = new Roster(8);
        assertEquals(Long.MAX_VALUE, r.slowestDone());
        r.admit("a", null).doneSteps = 9;
        r.admit("b", null).doneSteps = 4;
        r.admit("c", null).doneSteps = 1;
        r.byId(2).live = false; // a gone trainer does not hold the others back
        assertEquals(4, r.slowestDone());
    }

    @Test
    void speedIsAMovingAverageWithAFifthForEachNewStep() {
        Roster.Member m = new Roster(1).admit("a", null);
        m.measured(100);
        assertEquals(100, m.stepNanos, 1e-9);
        m.measured(200);
        assertEquals(120, m.stepNanos, 1e-9); // 0.8 * 100 + 0.2 * 200
        assertNull(new Roster(1).refusal());
        assertThrows(IllegalArgumentException.class, () -> new Roster(0));
    }
}
