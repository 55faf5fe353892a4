package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CreditLedgerTest {

    @Test
    void aTrainerWhoseSlicesAreAllRejectedFallsBelowTheThresholdAfterTheExpectedCountOnce() {
        CreditLedger ledger = new CreditLedger(0.02, 0.5);
        ledger.admitted(0, "a");
        ledger.admitted(1, "b");
        List<Integer> fallenAt = new ArrayList<>();
        for (int slice = 1; slice <= 100; slice++) {
            List<Integer> fallen = ledger.sliceVerdicts(Set.of(0, 1), Set.of(1), Set.of());
            if (!fallen.isEmpty()) {
                assertEquals(List.of(1), fallen);
                fallenAt.add(slice);
                ledger.status(1, CreditLedger.Status.QUARANTINED);
            }
        }
        // 0.98^n < 0.5 first at n = 35
        assertEquals(List.of(35), fallenAt);
        assertEquals(1.0, ledger.entry(0).reputation(), 1e-12);
        assertEquals(100, ledger.entry(0).accepted());
        assertEquals(100, ledger.entry(1).rejected());
        assertEquals(CreditLedger.Status.QUARANTINED, ledger.entry(1).status());
        ledger.status(1, CreditLedger.Status.FINISHED);
        assertEquals(CreditLedger.Status.QUARANTINED, ledger.entry(1).status(), "quarantine is final");
    }

    @Test
    void outliersCountAsAcceptedButCostReputationLikeRejections() {
        CreditLedger ledger = new CreditLedger(0.02, 0.5);
        ledger.admitted(0, "a");
        ledger.admitted(4, "e");
        int fellAt = -1;
        for (int slice = 1; slice <= 40; slice++) {
            List<Integer> fallen = ledger.sliceVerdicts(Set.of(0, 4), Set.of(), Set.of(4));
            if (!fallen.isEmpty() && fellAt < 0) {
                assertEquals(List.of(4), fallen);
                fellAt = slice;
                ledger.status(4, CreditLedger.Status.QUARANTINED);
            }
        }
        assertEquals(35, fellAt);
        assertEquals(40, ledger.entry(4).accepted());
        assertEquals(40, ledger.entry(4).outliers());
        assertEquals(0, ledger.entry(4).rejected());
        assertEquals(1.0, ledger.entry(0).reputation(), 1e-12);
        assertTrue(ledger.toJson(1, 2).contains("\"outliers\": 40"), ledger.toJson(1, 2));
    }

    @Test
    void anHonestTrainerWithOccasionalRejectionsStaysAboveTheThreshold() {
        CreditLedger ledger = new CreditLedger(0.02, 0.5);
        ledger.admitted(0, "a");
        for (int slice = 0; slice < 10_000; slice++) {
            // one slice in five rejected (a loss spike, an over-eager norm bound)
            assertTrue(ledger.sliceVerdicts(Set.of(0), slice % 5 == 0 ? Set.of(0) : Set.of(), Set.of()).isEmpty(), "slice " + slice);
        }
        assertTrue(ledger.entry(0).reputation() > 0.7, "reputation " + ledger.entry(0).reputation());
        assertEquals(2_000, ledger.entry(0).rejected());
    }

    @Test
    void zeroThresholdNeverQuarantinesAndBadSettingsAreRefused() {
        CreditLedger ledger = new CreditLedger(0.5, 0);
        ledger.admitted(0, "a");
        for (int i = 0; i < 100; i++) {
            assertTrue(ledger.sliceVerdicts(Set.of(0), Set.of(0), Set.of()).isEmpty());
        }
        assertThrows(IllegalArgumentException.class, () -> new CreditLedger(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new CreditLedger(0.1, 1.0));
    }

    @Test
    void stepsSamplesAndComputeAddUpAndTheJsonCarriesThem() {
        CreditLedger ledger = new CreditLedger(0.02, 0.5);
        ledger.admitted(3, "pekko://tributary@127.0.0.1:4000");
        ledger.served(3, 64);
        ledger.computed(3, 2_000_000_000L);
        ledger.served(3, 64);
        ledger.computed(3, 1_000_000_000L);
        ledger.served(9, 64); // never admitted: ignored
        ledger.computed(9, 1L);
        assertEquals(128, ledger.entry(3).samples());
        assertEquals(2, ledger.entry(3).steps());
        assertEquals(3.0, ledger.entry(3).computeSeconds(), 1e-9);
        ledger.admitted(4, "node \"with\" quotes\\");
        String json = ledger.toJson(77, 12);
        com.typesafe.config.Config c = com.typesafe.config.ConfigFactory.parseString(json,
                com.typesafe.config.ConfigParseOptions.defaults().setSyntax(com.typesafe.config.ConfigSyntax.JSON));
        assertEquals(77, c.getLong("run"), json);
        com.typesafe.config.Config t = c.getConfigList("trainers").get(0);
        assertEquals(3, t.getInt("trainer"));
        assertEquals("pekko://tributary@127.0.0.1:4000", t.getString("node"));
        assertEquals(128, t.getLong("samples"));
        assertEquals(2, t.getLong("steps"));
        assertEquals(3.0, t.getDouble("compute_seconds"), 1e-9);
        assertEquals("live", t.getString("status"));
        assertEquals("node \"with\" quotes\\", c.getConfigList("trainers").get(1).getString("node"),
                "a node name is written as it is, escaped");
    }

    @Test
    void anIdThatGoesToAnotherVolunteerStartsAFreshEntryAndKeepsTheGoneOnesUnderItsNode() {
        CreditLedger ledger = new CreditLedger(0.5, 0.1);
        ledger.admitted(0, "a");
        ledger.served(0, 64);
        ledger.computed(0, 2_000_000_000L);
        ledger.sliceVerdicts(Set.of(0), Set.of(0), Set.of()); // reputation 1 -> 0.5
        ledger.status(0, CreditLedger.Status.GONE);
        ledger.admitted(0, "b");
        ledger.served(0, 32);
        ledger.computed(0, 1_000_000_000L);
        ledger.admitted(0, "b"); // the same volunteer again: the same entry
        List<CreditLedger.Entry> entries = ledger.entries();
        assertEquals(2, entries.size());
        assertEquals("a", entries.get(0).node());
        assertEquals(64, entries.get(0).samples());
        assertEquals(0.5, entries.get(0).reputation(), 1e-12);
        assertEquals(CreditLedger.Status.GONE, entries.get(0).status());
        assertEquals("b", entries.get(1).node());
        assertEquals(32, entries.get(1).samples());
        assertEquals(1.0, entries.get(1).reputation(), 1e-12);
        assertEquals(CreditLedger.Status.LIVE, entries.get(1).status());
        assertEquals("b", ledger.entry(0).node(), "the id's current holder");
        String json = ledger.toJson(7, 10);
        assertTrue(json.contains("\"node\": \"a\"") && json.contains("\"node\": \"b\""), json);
    }
}
