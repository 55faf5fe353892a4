package io.tributary.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tributary chaos}: its exit statuses and its command line, without starting a cluster. */
class ChaosMainTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return ChaosMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), dir.resolve("runs"));
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void exitStatusIsZeroOnlyWhenTheOverallVerdictIsTrue() {
        // the documented statuses (README, 'tributary chaos run --help'): scripts depend on them
        assertEquals(0, ChaosMain.exitStatus("true"));
        assertEquals(1, ChaosMain.exitStatus("false"));
        assertEquals(3, ChaosMain.exitStatus("unknown"));
        assertThrows(IllegalArgumentException.class, () -> ChaosMain.exitStatus("maybe"));
    }

    @Test
    void helpIsTheUsageOnStdoutWithStatusZero() {
        assertEquals(0, run("--help"), stderr());
        assertTrue(stdout().startsWith("Usage: tributary chaos"), stdout());
        assertTrue(stdout().contains("run"), stdout());
        assertEquals(0, run("run", "--help"), stderr());
        String usage = stdout();
        assertTrue(usage.startsWith("Usage: tributary chaos run"), usage);
        assertTrue(usage.contains("FILE"), usage);
        assertTrue(usage.lines().anyMatch(l -> l.trim().startsWith("3") && l.contains("unknown")),
                "the help documents status 3: " + usage);
        assertEquals(0, run("help", "run"), stderr());
        assertTrue(stdout().startsWith("Usage: tributary chaos run"), stdout());
        assertEquals("", stderr());
    }

    @Test
    void aWrongCommandLineIsStatusTwo() {
        assertEquals(2, run());
        assertTrue(stderr().startsWith("Usage: tributary chaos"), stderr());
        assertEquals(2, run("run"));
        assertTrue(stderr().startsWith("tributary: 'chaos run' needs FILE"), stderr());
        assertEquals(2, run("runn", "config/chaos/kill-trainer.conf"));
        assertTrue(stderr().startsWith("tributary: unknown chaos command 'runn'; use run"), stderr());
        assertTrue(stderr().contains("did you mean run?"), stderr());
        assertEquals(2, run("run", "a.conf", "b.conf"));
        assertTrue(stderr().startsWith("tributary: unexpected argument 'b.conf' for 'chaos run'"), stderr());
    }

    @Test
    void aMalformedOrMissingScenarioIsOneLineAndStatusTwo() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.conf"), "scenario {\n  name = x\n  clustr { trainers = 2 }\n}\n");
        assertEquals(2, run("run", bad.toString()));
        String e = stderr().trim();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.startsWith("tributary: error: ") && e.contains("bad.conf") && e.contains("scenario.clustr"), e);

        assertEquals(2, run("run", dir.resolve("absent.conf").toString()));
        e = stderr().trim();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.startsWith("tributary: error: ") && e.contains("absent.conf"), e);
        assertTrue(Files.notExists(dir.resolve("runs")), "no run was started");
    }
}
