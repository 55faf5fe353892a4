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
        assertEquals(0, r.admit("node-a", null, 0).id);
        assertEquals(1, r.admit("node-b", null, 0).id);
        assertNotNull(r.refusal(0));
        assertTrue(r.refusal(0).contains("max-trainers = 2"));
        assertThrows(IllegalStateException.class, () -> r.admit("node-c", null, 0));
        assertEquals("node-b", r.byId(1).nodeId);
        assertEquals(0, r.byIdentity("node-a").id);
    }

    @Test
    void aNodeHasOneTrainer() {
        Roster r = new Roster(4);
        r.admit("node-a", null, 0);
        assertThrows(IllegalStateException.class, () -> r.admit("node-a", null, 0));
    }

    @Test
    void aTrainerIsKeyedOnItsIdentityNotOnTheAddressItRegistersFrom() {
        Roster r = new Roster(4);
        Roster.Member m = r.admit("cert-alice", "pekko://tributary@127.0.0.1:4001", null, 0);
        assertEquals(m, r.byIdentity("cert-alice"));
        assertNull(r.byIdentity("pekko://tributary@127.0.0.1:4001"), "an address is not an identity");
        assertThrows(IllegalStateException.class, () -> r.admit("cert-alice", "pekko://tributary@127.0.0.1:4002", null, 0),
                "one identity, one trainer, whatever its address");
        assertEquals(1, r.admit("cert-bob", "pekko://tributary@127.0.0.1:4001", null, 0).id);
    }

    @Test
    void goneAndQuarantinedTrainersLeaveThePlanAndOnlyTheGoneOnesReportsCountAsDelivery() {
        Roster r = new Roster(8);
        for (String n : new String[] {"a", "b", "c", "d"}) {
            r.admit(n, null, 0);
        }
        r.byId(1).live = false;
        r.byId(1).doneSteps = 17;
        r.byId(3).quarantined = true;
        r.byId(3).live = false;
        r.byId(3).doneSteps = 5;
        r.byId(2).weight = 600;
        assertArrayEquals(new int[][] {{0, 2}, {1000, 600}}, r.planMembers());
        // the gone trainer's 17 reported steps count as delivered; the quarantined one's 5 do not (its frames
        // may have been refused): every slice of it shard 0 did not commit is handed on from step 0
        assertEquals(Map.of(1, 17L, 3, 0L), r.gone());
        assertEquals(Set.of(0, 2), r.quorum());
        assertEquals(2, r.liveCount());
    }

    @Test
    void theSlowestLiveTrainerSetsTheFloor() {
        Roster r = new Roster(8);
        assertEquals(Long.MAX_VALUE, r.slowestDone());
        r.admit("a", null, 0).doneSteps = 9;
        r.admit("b", null, 0).doneSteps = 4;
        r.admit("c", null, 0).doneSteps = 1;
        r.byId(2).live = false; // a gone trainer does not hold the others back
        assertEquals(4, r.slowestDone());
    }

    @Test
    void speedIsAMovingAverageWithAFifthForEachNewStep() {
        Roster.Member m = new Roster(1).admit("a", null, 0);
        m.measured(100);
        assertEquals(100, m.stepNanos, 1e-9);
        m.measured(200);
        assertEquals(120, m.stepNanos, 1e-9); // 0.8 * 100 + 0.2 * 200
        assertNull(new Roster(1).refusal(0));
        assertThrows(IllegalArgumentException.class, () -> new Roster(0));
    }

    /**
     * Over a run's life 3 + 40 trainers register with max-trainers = 3: each time one goes, a new one
     * is refused until the plan that handed on the gone one's samples is reached, then takes its id.
     * One trainer is quarantined on the way: its id is never given again, so 2 places remain.
     */
    @Test
    void moreThanMaxTrainersComeAndGoOverARunAndTheRosterKeepsAdmittingWithinTheLiveOnes() {
        int max = 3;
        Roster r = new Roster(max);
        for (String n : new String[] {"a", "b", "c"}) {
            r.admit(n, null, 0);
        }
        int quarantinedId = -1;
        long committed = 0;
        int admitted = 3;
        for (int round = 0; round < 40; round++) {
            if (round == 10) {
                Roster.Member q = r.active().get(0);
                q.quarantined = true;
                q.live = false;
                quarantinedId = q.id;
            }
            Roster.Member leaving = r.active().get(round % r.activeCount());
            r.gone(leaving, Long.MAX_VALUE);
            assertEquals(Set.of(leaving.id), idsGone(r, quarantinedId), "round " + round);
            assertNotNull(r.refusal(committed), "round " + round + ": its samples are not handed on yet");
            long lease = committed + 2;
            r.handedOn(lease); // the plan that hands them on starts at the lease
            assertNotNull(r.refusal(lease - 1), "round " + round + ": the run has not reached that plan");
            committed = lease;
            assertNull(r.refusal(committed), "round " + round);
            Roster.Member joiner = r.admit("n" + round, null, committed);
            admitted++;
            assertEquals(leaving.id, joiner.id, "round " + round + ": the gone trainer's id, the only one free");
            assertNull(r.byIdentity(leaving.identity), "the gone trainer is retired");
            assertEquals(joiner, r.byId(leaving.id));
            assertTrue(joiner.id >= 0 && joiner.id < max);
            assertTrue(joiner.id != quarantinedId, "a quarantined trainer's id is never reused");
            assertEquals(round < 10 ? max : max - 1, r.activeCount());
            // full of live trainers (and the quarantined one's id): refused, with the reason
            assertNotNull(r.refusal(committed));
        }
        assertEquals(43, admitted);
        assertTrue(r.byId(quarantinedId).quarantined, "the quarantined trainer keeps its id to the end");
        assertTrue(r.refusal(committed).contains("quarantined"), r.refusal(committed));
    }

    private static Set<Integer> idsGone(Roster r, int quarantinedId) {
        Set<Integer> ids = new java.util.HashSet<>(r.gone().keySet());
        ids.remove(quarantinedId);
        return ids;
    }

    @Test
    void aNewTrainerTakesANeverUsedIdFirstThenTheIdOfTheTrainerGoneLongest() {
        Roster r = new Roster(4);
        Roster.Member a = r.admit("a", null, 0);
        Roster.Member b = r.admit("b", null, 0);
        r.admit("c", null, 0);
        r.gone(b, 5);
        r.gone(a, 5);
        assertEquals(3, r.admit("d", null, 5).id, "id 3 was never used");
        assertEquals(1, r.admit("e", null, 5).id, "b went before a");
        assertEquals(0, r.admit("f", null, 5).id);
        assertNotNull(r.refusal(5));
        assertTrue(r.refusal(5).contains("4 trainers are training"), r.refusal(5));
    }

    @Test
    void aRetiredTrainersSamplesStayInTheHistorysShareOfItsId() {
        Roster r = new Roster(1);
        Roster.Member a = r.admit("a", null, 0);
        a.samples = 640;
        r.gone(a, 0);
        r.admit("b", null, 0).samples = 128;
        assertEquals(Map.of(0, 768L), r.samplesByTrainer());
    }
}
