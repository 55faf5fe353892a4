package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.history.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResumePointTest {

    private static final int[] LAYERS = {4, 3, 2};

    @TempDir
    Path run;

    private Path write(long step, float fill) throws Exception {
        float[] p = new float[(int) Checkpoint.parameterCount(LAYERS)];
        java.util.Arrays.fill(p, fill);
        return Checkpoint.write(Files.createDirectories(run.resolve("history/checkpoints")), "step-" + step, LAYERS, p,
                Map.of("step", Long.toString(step), "run_id", "7"));
    }

    @Test
    void aRunFolderResumesFromItsHighestStepWithTheExactParameters() throws Exception {
        write(40, 0.25f);
        write(120, 0.5f);
        write(80, 0.75f);
        ResumePoint r = ResumePoint.load(run, LAYERS);
        assertEquals(120, r.step());
        assertTrue(r.file().endsWith("step-120.safetensors"), r.file().toString());
        float[] expected = new float[r.parameters().length];
        java.util.Arrays.fill(expected, 0.5f);
        assertArrayEquals(expected, r.parameters());
        assertEquals(40, ResumePoint.load(run.resolve("history/checkpoints/step-40.safetensors"), LAYERS).step());
    }

    @Test
    void anotherModelATruncatedFileOrNoCheckpointIsRefusedWithTheReason() throws Exception {
        Path f = write(40, 1f);
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> ResumePoint.load(f, new int[] {4, 5, 2}));
        assertTrue(other.getMessage().contains("layers [4, 3, 2]") && other.getMessage().contains("[4, 5, 2]"),
                other.getMessage());

        byte[] bytes = Files.readAllBytes(f);
        Path cut = run.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 7));
        IllegalArgumentException truncated = assertThrows(IllegalArgumentException.class,
                () -> ResumePoint.load(cut, LAYERS));
        assertTrue(truncated.getMessage().startsWith("cannot resume from " + cut), truncated.getMessage());

        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> ResumePoint.load(Files.createDirectories(run.resolve("empty")), LAYERS));
        assertTrue(none.getMessage().contains("no step-N.safetensors"), none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ResumePoint.load(run.resolve("nowhere"), LAYERS));
    }
}
