package io.tributary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.coordinator.RunRecorder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryCommandTest {

    @TempDir
    Path runs;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return HistoryCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), runs);
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void showAndVerifyTheNewestDemoRunByDefault() throws IOException {
        Files.createDirectories(runs.resolve("demo-20260101-000000"));
        record(runs.resolve("demo-20261125-200704"), 2);

        assertEquals(0, run("verify"), stderr());
        assertEquals("history OK: 2 entries", stdout().strip());

        assertEquals(0, run("show"), stderr());
        String table = stdout();
        assertTrue(table.contains("index  version  accuracy"), table);
        assertTrue(table.contains("1:25.0% 2:25.0% 10:50.0%"), table);
        assertTrue(table.contains("checkpoints/step-200.safetensors"), table);
        assertTrue(table.contains("91.00%") && table.contains("0.5000"), table);
    }

    @Test
    void verifyExitsOneWithTheFirstMismatch() throws IOException {
        Path run = runs.resolve("demo-20261125-200704");
        record(run, 3);
        Path checkpoint = run.resolve("history/checkpoints/step-200.safetensors");
        byte[] b = Files.readAllBytes(checkpoint);
        b[b.length - 1] ^= 1;
        Files.write(checkpoint, b);

        assertEquals(1, run("verify", run.resolve("history").toString()));
        String line = stdout().strip();
        assertTrue(line.contains("entry 1 (line 2): checkpoint checkpoints/step-200.safetensors has SHA-256"), line);
        assertEquals(1, line.lines().count(), line);
    }

    @Test
    void missingHistoryOrBadArgumentsAreOneLineAndExitTwo() throws IOException {
        assertEquals(2, run("verify"));
        assertTrue(stderr().contains("no " + runs.resolve("demo-*") + " folder here"), stderr());

        Files.createDirectories(runs.resolve("demo-20261125-200704"));
        assertEquals(2, run("show"));
        assertTrue(stderr().contains("has no history/history.jsonl"), stderr());

        assertEquals(2, run("frobnicate"));
        assertTrue(stderr().contains("use show or verify"), stderr());
        assertEquals(2, run());
        assertEquals(0, run("help"));
    }

    private static void record(Path runDir, int evaluations) {
        RunRecorder recorder = new RunRecorder(runDir, 1, "f".repeat(64), new int[] {4, 3, 2});
        for (int i = 1; i <= evaluations; i++) {
            recorder.recordEvaluation(100L * i, i, new float[23], null, Map.of(1, 25L, 2, 25L, 10, 50L), 1.0 / i,
                    0.9 + i / 100.0);
        }
    }
}
