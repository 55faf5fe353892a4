package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tributary.kernels.BackendMode;
import io.tributary.tls.TlsSettings;
import io.tributary.trainer.cluster.Attack;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RunSettingsTest {

    private static RunSettings of(String hocon) {
        return RunSettings.from(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()));
    }

    @Test
    void theDefaultsAreAFreshUnrecordedRunOnTheDefaultBackend() {
        RunSettings r = of("");
        assertNull(r.resumeFrom());
        assertNull(r.runDir());
        assertNull(r.chaosControl());
        assertEquals(BackendMode.AUTO, r.backend());
        assertEquals(Attack.NONE, r.trainer().attack());
        assertEquals(Duration.ofSeconds(15), r.dataPlane().requestTimeout());
    }

    @Test
    void keysAreReadIntoTheirFields() {
        RunSettings r = of("tributary { cluster { run-id = 9, min-trainers = 3, run-dir = \"runs/x\" },"
                + " trainer { slowdown = 2.5, attack = sign-flip }, data-plane { port = 40123, authenticate = off } }");
        assertEquals(9, r.runId());
        assertEquals(3, r.minTrainers());
        assertEquals(Path.of("runs/x"), r.runDir());
        assertEquals(2.5, r.trainer().slowdown());
        assertEquals(Attack.SIGN_FLIP, r.trainer().attack());
        assertEquals(40123, r.dataPlane().port());
        assertEquals(false, r.dataPlane().authenticate());
        assertEquals(64, r.configHash().length(), "a SHA-256 in hex");
    }

    @Test
    void aBadValueNamesItsKey() {
        for (String bad : new String[] {"tributary.cluster.min-trainers = 0", "tributary.trainer.slowdown = 0.5",
                "tributary.data-plane.port = 70000", "tributary.data-plane.request-timeout = 0s",
                "tributary.cluster.eval-every-steps = -1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> of(bad));
            assertTrue(e.getMessage().startsWith(bad.substring(0, bad.indexOf(' '))), e.getMessage());
        }
    }

    @Test
    void tlsSettingsSayWhetherAndWhere() {
        TlsSettings t = TlsSettings.from(ConfigFactory.parseString("tributary.tls.dir = \"/etc/tributary\"")
                .withFallback(ConfigFactory.load()));
        assertTrue(t.enabled());
        assertEquals(Path.of("/etc/tributary"), t.dir());
        assertNull(TlsSettings.from(ConfigFactory.load()).dir());
    }
}
