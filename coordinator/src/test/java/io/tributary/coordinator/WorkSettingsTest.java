package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class WorkSettingsTest {

    private static WorkSettings parse(String hocon) {
        return WorkSettings.from(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()));
    }

    @Test
    void theDefaultsAreEqualBatchesAndAnEightStepLease() {
        WorkSettings w = parse("");
        assertEquals(WorkSettings.DEFAULT, w);
        assertFalse(w.adaptive());
        assertTrue(parse("tributary.consistency.adaptive-batch = on").adaptive());
    }

    @Test
    void badValuesNameTheKeyAndWhatIsAllowed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse("tributary.consistency.adaptive-batch = maybe"));
        assertEquals("tributary.consistency.adaptive-batch = 'maybe' is unknown: use on or off", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse("tributary.consistency.lease-steps = 0"));
        assertTrue(e.getMessage().startsWith("tributary.consistency.lease-steps = 0 is invalid"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse("tributary.consistency.adaptive-min-share = 1.5"));
        assertTrue(e.getMessage().contains("adaptive-min-share = 1.5 is invalid"), e.getMessage());
    }
}
