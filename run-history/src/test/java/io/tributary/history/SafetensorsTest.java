package io.tributary.history;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void randomTensorsRoundTripBitExact() throws IOException {
        long seed = 20261125;
        SplittableRandom r = new SplittableRandom(seed);
        for (int trial = 0; trial < 40; trial++) {
            Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
            int count = 1 + r.nextInt(6);
            for (int t = 0; t < count; t++) {
                int rank = r.nextInt(4);
                int[] shape = new int[rank];
                for (int d = 0; d < rank; d++) {
                    shape[d] = r.nextInt(7);
                }
                float[] data = new float[(int) Safetensors.Tensor.elementCount(shape)];
                for (int i = 0; i < data.length; i++) {
                    // any bit pattern but signalling NaNs, whose payload the CPU may quieten
                    data[i] = r.nextInt(8) == 0 ? Float.NaN : Float.intBitsToFloat(r.nextInt());
                    if (Float.isNaN(data[i])) {
                        data[i] = Float.intBitsToFloat(0x7fc00000 | (r.nextInt() & 0x803fffff));
                    }
                }
                tensors.put("t" + t + (r.nextBoolean() ? ".w\u00e9ight\"\n" : ""), new Safetensors.Tensor(shape, data));
            }
            Map<String, String> meta = Map.of("seed", Long.toString(seed), "trial", Integer.toString(trial),
                    "odd \\ \"text\"\t", "caf\u00e9 \u2603");
            Path file = dir.resolve("round-" + trial + ".safetensors");
            Safetensors.write(file, tensors, meta);

            Safetensors.Contents back = Safetensors.read(file);
            assertEquals(meta, back.metadata(), "metadata (seed " + seed + ", trial " + trial + ")");
            assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.tensors().keySet()),
                    "names in offset order (seed " + seed + ", trial " + trial + ")");
            for (Map.Entry<String, Safetensors.Tensor> e : tensors.entrySet()) {
                Safetensors.Tensor got = back.tensors().get(e.getKey());
                assertArrayEquals(e.getValue().shape(), got.shape(), "shape (seed " + seed + ")");
                assertArrayEquals(bits(e.getValue().data()), bits(got.data()),
                        "bits of " + e.getKey() + " (seed " + seed + ", trial " + trial + ")");
            }
            long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8, "header padded to a multiple of 8");
        }
    }

    @Test
    void handWrittenFileFromTheSpecParses() throws IOException {
        // pretty-printed, as other writers may produce: whitespace between tokens is allowed
        String header = "{ \"__metadata__\": {\"format\": \"pt\"},\n  \"w\": {\"dtype\": \"F32\", \"shape\": [2, 2],"
                + " \"data_offsets\": [0, 16]} }";
        Path file = dir.resolve("hand.safetensors");
        Files.write(file, fileBytes(header.getBytes(StandardCharsets.UTF_8), 1f, 2f, -3.5f, 4e-20f));

        Safetensors.Contents c = Safetensors.read(file);
        assertEquals(Map.of("format", "pt"), c.metadata());
        assertArrayEquals(new int[] {2, 2}, c.tensors().get("w").shape());
        assertArrayEquals(new float[] {1f, 2f, -3.5f, 4e-20f}, c.tensors().get("w").data());
    }

    @Test
    void writerProducesExactlyTheSpecBytes() throws IOException {
        Path file = dir.resolve("exact.safetensors");
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", new Safetensors.Tensor(new int[] {2, 2}, new float[] {1f, 2f, 3f, 4f}));
        tensors.put("b", new Safetensors.Tensor(new int[] {2}, new float[] {5f, 6f}));
        Safetensors.write(file, tensors, Map.of("k", "v"));

        String json = "{\"__metadata__\":{\"k\":\"v\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}";
        byte[] padded = Arrays.copyOf(json.getBytes(StandardCharsets.UTF_8), (json.length() + 7) / 8 * 8);
        Arrays.fill(padded, json.length(), padded.length, (byte) ' ');
        assertArrayEquals(fileBytes(padded, 1f, 2f, 3f, 4f, 5f, 6f), Files.readAllBytes(file));
    }

    @Test
    void truncatedFilesAreRefusedNamingTheFile() throws IOException {
        Path good = dir.resolve("good.safetensors");
        Safetensors.write(good, Map.of("w", new Safetensors.Tensor(new int[] {3}, new float[] {1, 2, 3})), Map.of());
        byte[] all = Files.readAllBytes(good);

        assertRefused(Arrays.copyOf(all, 5), "truncated-5.safetensors", "shorter than the 8-byte header length");
        assertRefused(Arrays.copyOf(all, 20), "truncated-20.safetensors", "beyond the end of the file");
        assertRefused(Arrays.copyOf(all, all.length - 1), "truncated-1.safetensors", "truncated file");
        assertRefused(Arrays.copyOf(all, all.length - 12), "truncated-12.safetensors", "truncated file");
        assertRefused(new byte[0], "empty.safetensors", "shorter than the 8-byte header length");
    }

    @Test
    void headerLengthBeyondTheFileIsRefused() throws IOException {
        byte[] file = fileBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(
                StandardCharsets.UTF_8), 1f);
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(0, file.length);
        assertRefused(file, "long-header.safetensors", "beyond the end of the file");
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        assertRefused(file, "huge-header.safetensors", "header length 18446744073709551615 is beyond");
    }

    @Test
    void overlappingGappedOrUncoveredOffsetsAreRefused() throws IOException {
        assertRefusedHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap tensor \"a\"");
        assertRefusedHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "4-byte gap at offset 4");
        assertRefusedHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "trailing bytes");
        assertRefusedHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "end before");
        assertRefusedHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                "span 8 bytes but shape [3] of F32 needs 12");
    }

    @Test
    void anyDtypeButF32IsRefused() throws IOException {
        assertRefusedHeader("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                "dtype \"F16\"; only F32 is supported");
    }

    @Test
    void malformedHeadersAreRefused() throws IOException {
        String t = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        assertRefusedHeader("{\"a\":" + t + ",\"a\":" + t + "}", 8, "duplicate key \"a\"");
        assertRefusedHeader("{\"a\":" + t + "} x", 4, "after the value");
        assertRefusedHeader("[" + t + "]", 4, "does not start with '{'");
        assertRefusedHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4,
                "not a non-negative integer");
        assertRefusedHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
                "unknown field \"x\"");
        assertRefusedHeader("{\"__metadata__\":{\"k\":1},\"a\":" + t + "}", 4, "is not a string");
        assertRefusedHeader("{\"a\":{\"dtype\":true}}", 0, "only objects, arrays, strings and numbers");
        assertRefusedHeader("{\"a\":" + t, 4, "unexpected end of text");
    }

    @Test
    void atomicWriteLeavesOnlyTheTargetAndReplacesIt() throws IOException {
        Path file = dir.resolve("atomic.safetensors");
        Safetensors.write(file, Map.of("w", new Safetensors.Tensor(new int[] {1}, new float[] {1})), Map.of());
        Safetensors.write(file, Map.of("w", new Safetensors.Tensor(new int[] {1}, new float[] {2})), Map.of());
        assertEquals(List.of(file), list(dir));
        assertEquals(2f, Safetensors.read(file).tensors().get("w").data()[0]);

        // the rename fails (the target is a non-empty directory): the temp file must not stay behind
        Path blocked = dir.resolve("blocked.safetensors");
        Files.createDirectories(blocked.resolve("inside"));
        assertThrows(IOException.class, () -> Safetensors.write(blocked,
                Map.of("w", new Safetensors.Tensor(new int[] {1}, new float[] {1})), Map.of()));
        assertEquals(List.of(file, blocked), list(dir));
    }

    private void assertRefusedHeader(String header, int dataBytes, String expected) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] file = new byte[8 + h.length + dataBytes];
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
        assertRefused(file, "bad-" + Integer.toHexString(header.hashCode()) + ".safetensors", expected);
    }

    private void assertRefused(byte[] bytes, String name, String expected) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(file, e.file());
    }

    private static byte[] fileBytes(byte[] header, float... data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        for (float f : data) {
            b.putFloat(f);
        }
        return b.array();
    }

    private static int[] bits(float[] data) {
        int[] out = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            out[i] = Float.floatToRawIntBits(data[i]);
        }
        return out;
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
