package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.ConsistencyPolicy;
import org.junit.jupiter.api.Test;

/** Which parameters a trainer asks for, and when its step may start, without an actor. */
class ParameterFetchTest {

    @Test
    void syncAsksForExactlyTheStepsVersionAndStartsWhenItAndEveryShardAreIn() {
        ParameterFetch fetch = new ParameterFetch(2);
        fetch.assign(ConsistencyPolicy.SYNC, 0, 10);
        assertEquals(5, fetch.begin(5, 123L));
        assertEquals(123L, fetch.requestedAt());
        assertTrue(fetch.awaiting());
        assertFalse(fetch.complete());
        fetch.arrived(5);
        assertFalse(fetch.complete(), "shard 1 has not answered yet");
        fetch.shardAt(0, "a:1");
        fetch.shardAt(1, "b:2");
        assertTrue(fetch.complete());
        assertEquals("b:2", fetch.shardEndpoint(1));
        fetch.taken();
        assertFalse(fetch.awaiting());
        assertFalse(fetch.complete());
        assertEquals(6, fetch.begin(6, 0L), "still the step's version, whatever came before");
        assertFalse(fetch.ready());
    }

    @Test
    void nothingIsAskedOnceTheRunIsOver() {
        ParameterFetch fetch = new ParameterFetch(1);
        fetch.assign(ConsistencyPolicy.SYNC, 0, 10);
        assertEquals(-1, fetch.begin(10, 0L));
        assertFalse(fetch.awaiting());
    }

    @Test
    void boundedStalenessAsksForAnythingNewerAndWaitsWhenTooFarAheadOfTheSlowest() {
        ParameterFetch fetch = new ParameterFetch(1);
        fetch.assign(ConsistencyPolicy.BOUNDED_STALENESS, 2, 100);
        assertEquals(0, fetch.begin(2, 0L), "nothing computed on yet: any version from 0");
        assertEquals(0, fetch.floorAtRequest(), "no floor from the coordinator yet: 0");
        fetch.arrived(7);
        fetch.taken();
        assertEquals(-1, fetch.begin(3, 0L), "3 steps ahead of the slowest (at 0), bound 2");
        fetch.clockFloor(1);
        assertEquals(8, fetch.begin(3, 0L), "newer than version 7");
        assertEquals(1, fetch.floorAtRequest());
        fetch.clockFloor(0);
        assertEquals(8, fetch.minVersion(4));
        assertEquals(1, fetch.floorAtRequest(), "the slowest trainer's step only goes up");
    }
}
