package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.dataplane.FaultHooks;
import org.junit.jupiter.api.Test;

/** The chaos tool's data-plane faults: the cut switch and the pacing arithmetic of a bandwidth cap. */
class ChaosFaultsTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void theCutHoldsUntilItIsHealed() {
        ChaosFaults faults = new ChaosFaults();
        assertFalse(faults.isCutOff());
        faults.cutOff(true);
        assertTrue(faults.isCutOff());
        faults.cutOff(false);
        assertFalse(faults.isCutOff());
        assertFalse(FaultHooks.NONE.isCutOff());
    }

    @Test
    void aCapMakesSendersWaitForTheirBytesAfterA50MillisecondBurst() {
        ChaosFaults faults = new ChaosFaults();
        long now = 10 * SECOND;
        assertEquals(0, faults.delayNanos(1_000_000, now), "no cap: nobody waits");
        faults.capBandwidth(1_000); // bytes per second: 100 bytes take 100 ms
        assertEquals(50_000_000L, faults.delayNanos(100, now), "100 ms of bytes less the 50 ms burst");
        assertEquals(150_000_000L, faults.delayNanos(100, now), "the next 100 bytes queue behind them");
        // a second later what was sent is paid for: only the burst allowance is left again
        assertEquals(50_000_000L, faults.delayNanos(100, now + SECOND));
        assertTrue(faults.delayNanos(10, now + 10 * SECOND) < 0, "a small send within the burst does not wait");
        faults.capBandwidth(0);
        assertEquals(0, faults.delayNanos(1_000_000, now + 10 * SECOND), "the cap lifted");
    }

    @Test
    void pacingSleepsForTheDelay() {
        ChaosFaults faults = new ChaosFaults();
        faults.capBandwidth(1_000);
        long t0 = System.nanoTime();
        faults.pace(200); // 200 ms of bytes, 150 ms after the burst
        assertTrue(System.nanoTime() - t0 >= 140_000_000L, "did not wait for the cap");
    }

    @Test
    void aNegativeCapIsRefusedWithTheFix() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ChaosFaults().capBandwidth(-1));
        assertEquals("a bandwidth cap must be >= 0 bytes/s (0: none), got -1", e.getMessage());
    }
}
