package io.tributary.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelHistoryTest {

    private static final int[] LAYERS = {3, 4, 2};
    private static final String CONFIG = "c".repeat(64);
    private static final int ENTRIES = 4;

    @TempDir
    Path dir;

    @Test
    void chainOfEntriesVerifiesAndReadsBack() throws IOException {
        Path log = history(ENTRIES);
        ModelHistory.VerifyResult r = ModelHistory.verify(log);
        assertTrue(r.ok(), r.message());
        assertEquals("history OK: 4 entries", r.message());

        List<ModelHistory.Entry> entries = ModelHistory.read(log);
        assertEquals(ENTRIES, entries.size());
        assertEquals(ModelHistory.GENESIS, entries.get(0).parent());
        for (int i = 1; i < ENTRIES; i++) {
            assertEquals(entries.get(i - 1).hash(), entries.get(i).parent());
            assertEquals(i, entries.get(i).index());
        }
        assertEquals(entries.get(ENTRIES - 1).hash(), r.headHash());
        assertEquals(List.of("1", "10", "2"), List.copyOf(entries.get(0).contributors().keySet()), "ASCII order");
        assertEquals(0.25, entries.get(0).contributors().get("1"));
        assertEquals(200, entries.get(1).version());
    }

    @Test
    void hashIsSha256OfTheLineWithoutItsHashMember() throws IOException {
        Path log = history(1);
        String line = Files.readAllLines(log, StandardCharsets.UTF_8).get(0);
        assertFalse(line.contains(" "), "no whitespace: " + line);
        int at = line.lastIndexOf(",\"hash\":\"");
        String withoutHash = line.substring(0, at) + "}";
        String hash = line.substring(at + 9, at + 9 + 64);
        assertEquals(ModelHistory.sha256Hex(withoutHash.getBytes(StandardCharsets.UTF_8)), hash);
        assertTrue(line.startsWith("{\"index\":0,\"version\":100,\"parent\":\"" + ModelHistory.GENESIS
                + "\",\"checkpoint\":\"checkpoints/step-100.safetensors\",\"checkpointSha256\":\""), line);
        assertTrue(line.contains(",\"contributors\":{\"1\":0.25,\"10\":0.5,\"2\":0.25},\"loss\":2.5,"
                + "\"accuracy\":0.125,\"time\":\"2026-11-25T20:00:00Z\",\"hash\":\""), line);
    }

    @Test
    void everyByteFlipInALineIsCaughtAtThatEntry() throws IOException {
        Path log = history(ENTRIES);
        byte[] original = Files.readAllBytes(log);
        // every byte of entry 2 with its low bit flipped; every 5th byte of the first and last entries
        // with a case-changing flip, every 40th with a flip that breaks UTF-8 (about 700 verifies)
        int[][] plans = {{2, 1, 0x01}, {0, 5, 0x20}, {ENTRIES - 1, 5, 0x20}, {0, 40, 0x80}, {ENTRIES - 1, 40, 0x80}};
        for (int[] plan : plans) {
            int entry = plan[0];
            int start = lineStart(original, entry);
            int end = lineStart(original, entry + 1); // includes the newline
            assertTrue(end - start < 2000, "bounded");
            int mask = plan[2];
            for (int pos = start; pos < end; pos += plan[1]) {
                byte[] flipped = original.clone();
                flipped[pos] ^= (byte) mask;
                Files.write(log, flipped);
                ModelHistory.VerifyResult r = ModelHistory.verify(log);
                String where = "flip 0x" + Integer.toHexString(mask) + " at byte " + (pos - start) + " of entry "
                        + entry + ": " + r.message();
                assertFalse(r.ok(), where);
                assertEquals(entry, r.firstBadEntry(), where);
                assertTrue(r.message().contains("entry " + entry + " (line " + (entry + 1) + ")"), where);
            }
        }
        Files.write(log, original);
        assertTrue(ModelHistory.verify(log).ok());
    }

    @Test
    void aChangedCheckpointIsCaughtAtTheEntryThatNamesIt() throws IOException {
        Path log = history(ENTRIES);
        Path checkpoint = dir.resolve("checkpoints/step-300.safetensors");
        byte[] original = Files.readAllBytes(checkpoint);
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 20; trial++) {
            byte[] flipped = original.clone();
            int pos = r.nextInt(flipped.length);
            flipped[pos] ^= (byte) (1 << r.nextInt(8));
            Files.write(checkpoint, flipped);
            ModelHistory.VerifyResult v = ModelHistory.verify(log);
            assertFalse(v.ok(), "byte " + pos);
            assertEquals(2, v.firstBadEntry(), v.message());
            assertTrue(v.message().contains("checkpoint checkpoints/step-300.safetensors has SHA-256"), v.message());
        }
        Files.delete(checkpoint);
        ModelHistory.VerifyResult v = ModelHistory.verify(log);
        assertEquals(2, v.firstBadEntry());
        assertTrue(v.message().endsWith("is missing"), v.message());
    }

    @Test
    void aRemovedLineIsCaughtAsAParentMismatch() throws IOException {
        Path log = history(ENTRIES);
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        for (int removed = 0; removed < ENTRIES - 1; removed++) {
            List<String> kept = new ArrayList<>(lines);
            kept.remove(removed);
            Files.write(log, kept, StandardCharsets.UTF_8);
            ModelHistory.VerifyResult r = ModelHistory.verify(log);
            assertFalse(r.ok());
            assertEquals(removed, r.firstBadEntry(), r.message());
            assertTrue(r.message().contains("parent "), r.message());
        }
    }

    @Test
    void swappedLinesAreCaught() throws IOException {
        Path log = history(ENTRIES);
        List<String> lines = new ArrayList<>(Files.readAllLines(log, StandardCharsets.UTF_8));
        String a = lines.get(1);
        lines.set(1, lines.get(2));
        lines.set(2, a);
        Files.write(log, lines, StandardCharsets.UTF_8);
        ModelHistory.VerifyResult r = ModelHistory.verify(log);
        assertEquals(1, r.firstBadEntry(), r.message());
    }

    @Test
    void reopeningContinuesTheChain() throws IOException {
        Path log = history(2);
        ModelHistory h = ModelHistory.open(log);
        assertEquals(2, h.size());
        h.append(evaluation(3));
        assertTrue(ModelHistory.verify(log).ok());
        assertEquals(3, ModelHistory.read(log).size());
    }

    @Test
    void aPartialLastLineIsRefusedOnOpenAndReportedByVerify() throws IOException {
        Path log = history(2);
        byte[] all = Files.readAllBytes(log);
        Files.write(log, Arrays.copyOf(all, all.length - 10));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelHistory.open(log));
        assertTrue(e.getMessage().startsWith(log + ": entry 1 (line 2): "), e.getMessage());
        ModelHistory.VerifyResult r = ModelHistory.verify(log);
        assertEquals(1, r.firstBadEntry(), r.message());
    }

    @Test
    void valuesThatCannotBeRecordedAreRefused() throws IOException {
        ModelHistory h = ModelHistory.open(dir.resolve(ModelHistory.FILE_NAME));
        ModelHistory.Evaluation good = evaluation(0);
        assertThrows(IllegalArgumentException.class, () -> h.append(new ModelHistory.Evaluation(1,
                "../escape.safetensors", good.checkpointSha256(), CONFIG, Map.of(), 1, 1, Instant.EPOCH)));
        assertThrows(IllegalArgumentException.class, () -> h.append(new ModelHistory.Evaluation(1,
                good.checkpoint(), good.checkpointSha256(), CONFIG, Map.of(), Double.NaN, 1, Instant.EPOCH)));
        assertThrows(IllegalArgumentException.class, () -> h.append(new ModelHistory.Evaluation(1,
                good.checkpoint(), good.checkpointSha256(), CONFIG, Map.of("a b", 1.0), 1, 1, Instant.EPOCH)));
        assertEquals(0, h.size());
    }

    @Test
    void emptyHistoryVerifies() throws IOException {
        Path log = dir.resolve(ModelHistory.FILE_NAME);
        Files.write(log, new byte[0]);
        assertEquals("history OK: 0 entries", ModelHistory.verify(log).message());
    }

    /** A history of {@code n} entries with small checkpoints, in {@link #dir}. */
    private Path history(int n) throws IOException {
        Path log = dir.resolve(ModelHistory.FILE_NAME);
        ModelHistory h = ModelHistory.open(log);
        for (int i = 0; i < n; i++) {
            h.append(evaluation(i));
        }
        return log;
    }

    private ModelHistory.Evaluation evaluation(int i) throws IOException {
        long step = 100L * (i + 1);
        Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
        float[] flat = CheckpointTest.random(new SplittableRandom(i), (int) Checkpoint.parameterCount(LAYERS));
        Path file = Checkpoint.write(checkpoints, "step-" + step, LAYERS, flat, Map.of("step", Long.toString(step)));
        return new ModelHistory.Evaluation(step, "checkpoints/" + file.getFileName(), Checkpoint.sha256(file), CONFIG,
                Map.of("1", 0.25, "2", 0.25, "10", 0.5), 2.5 / (i + 1), 0.125 * (i + 1),
                Instant.parse("2026-11-25T20:00:00Z").plusSeconds(i));
    }

    private static int lineStart(byte[] all, int line) {
        int seen = 0;
        for (int i = 0; i < all.length && seen < line; i++) {
            if (all[i] == '\n') {
                seen++;
                if (seen == line) {
                    return i + 1;
                }
            }
        }
        return line == 0 ? 0 : all.length;
    }
}
