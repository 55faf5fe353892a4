package io.tributary.history;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    @TempDir
    Path dir;

    @Test
    void flatVectorIsCutIntoLayerTensorsAndReadBackExactly() throws IOException {
        long seed = 7;
        int[] layers = {5, 4, 3};
        float[] flat = random(new SplittableRandom(seed), (int) Checkpoint.parameterCount(layers));
        Path file = Checkpoint.write(dir, "step-10", layers, flat, Map.of("run", "42", "step", "10"));
        assertEquals(dir.resolve("step-10.safetensors"), file);

        Safetensors.Contents c = Safetensors.read(file);
        assertEquals(List.of("layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias"),
                List.copyOf(c.tensors().keySet()));
        assertArrayEquals(new int[] {5, 4}, c.tensors().get("layer0.weight").shape());
        assertArrayEquals(new int[] {3}, c.tensors().get("layer1.bias").shape());
        // row-major [in, out]: element (i, j) is flat[i * out + j]
        assertEquals(flat[2 * 4 + 3], c.tensors().get("layer0.weight").data()[2 * 4 + 3]);
        assertEquals(flat[5 * 4], c.tensors().get("layer0.bias").data()[0]);

        Checkpoint.Loaded back = Checkpoint.read(file);
        assertArrayEquals(layers, back.layerSizes());
        assertArrayEquals(flat, back.flatParams(), "seed " + seed);
        assertEquals("42", back.meta().get("run"));
        assertEquals("5,4,3", back.meta().get(Checkpoint.LAYERS_KEY));
    }

    @Test
    void mnistSizedCheckpointWritesAndReadsQuickly() throws IOException {
        int[] layers = {784, 512, 256, 10};
        float[] flat = random(new SplittableRandom(1), 535_818);
        assertEquals(535_818, Checkpoint.parameterCount(layers));
        long start = System.nanoTime();
        Path file = Checkpoint.write(dir, "mnist.safetensors", layers, flat, Map.of());
        String sha = Checkpoint.sha256(file);
        long micros = (System.nanoTime() - start) / 1000;
        System.out.printf("535,818-float checkpoint: write+fsync+sha256 %d us, %d bytes%n", micros, Files.size(file));
        assertEquals(64, sha.length());
        assertArrayEquals(flat, Checkpoint.read(file).flatParams());
    }

    @Test
    void wrongLengthOrReservedMetadataIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.write(dir, "x", new int[] {2, 2}, new float[5], Map.of()));
        assertTrue(e.getMessage().contains("have 6 parameters but the vector has 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.write(dir, "x", new int[] {2, 2}, new float[6], Map.of("layers", "1,2")));
    }

    @Test
    void fileWithMissingOrMisshapenLayersIsRefused() throws IOException {
        Path file = dir.resolve("odd.safetensors");
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("layer0.weight", new Safetensors.Tensor(new int[] {2, 3}, new float[6]));
        tensors.put("layer0.bias", new Safetensors.Tensor(new int[] {2}, new float[2]));
        Safetensors.write(file, tensors, Map.of("layers", "3,2"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("has shape [2, 3] but the layers need [3, 2]"), e.getMessage());

        Safetensors.write(file, tensors, Map.of());
        e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("not a Tributary MLP checkpoint"), e.getMessage());
    }

    @Test
    void sha256IsTheDigestOfTheFileBytes() throws Exception {
        Path file = Checkpoint.write(dir, "s", new int[] {1, 2}, new float[] {1, 2, 3, 4}, Map.of());
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        assertEquals(expected, Checkpoint.sha256(file));
    }

    static float[] random(SplittableRandom r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) r.nextGaussian();
        }
        return f;
    }
}
