package io.tributary.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkedStateTest {

    private static final int C = ChunkedState.CHUNK_FLOATS;

    @Test
    void chunkCountsAreTheCeilingOfLengthOverChunk() {
        assertEquals(0, ChunkedState.chunkCount(0));
        assertEquals(1, ChunkedState.chunkCount(1));
        assertEquals(1, ChunkedState.chunkCount(C));
        assertEquals(2, ChunkedState.chunkCount(C + 1));
        assertEquals(4, ChunkedState.chunkCount(3 * C + 7));
    }

    @Test
    void stateCutIntoShuffledRepeatedChunksIsReassembledExactly() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        for (int round = 0; round < 20; round++) {
            int length = 1 + rnd.nextInt(3 * C + 100);
            int parts = 1 + rnd.nextInt(3);
            float[][] source = new float[parts][length + 60];
            int[] bases = new int[parts];
            for (int p = 0; p < parts; p++) {
                bases[p] = rnd.nextInt(50);
                for (int i = 0; i < source[p].length; i++) {
                    source[p][i] = rnd.nextFloat();
                }
            }
            List<ChunkedState.Piece> pieces = new ArrayList<>(ChunkedState.cut(source, bases, length));
            assertEquals(parts * ((length + C - 1) / C), pieces.size(), "seed " + seed);
            int expectedChunks = pieces.size();
            for (int i = 0; i < expectedChunks; i++) {
                if (rnd.nextBoolean()) {
                    pieces.add(pieces.get(i)); // sent again
                }
            }
            Collections.shuffle(pieces, rnd);
            ChunkedState state = new ChunkedState(parts, length);
            assertEquals(expectedChunks, state.missing(), "seed " + seed);
            int fresh = 0;
            for (ChunkedState.Piece c : pieces) {
                assertFalse(state.complete(), "complete before every chunk arrived, seed " + seed);
                ChunkedState.Accepted a = state.accept(c.part(), c.offset(), c.values(), c.partDigest());
                fresh += a == ChunkedState.Accepted.NEW ? 1 : 0;
                if (fresh == expectedChunks) {
                    break;
                }
            }
            assertTrue(state.complete(), "seed " + seed);
            assertTrue(state.intact(), "seed " + seed);
            for (int p = 0; p < parts; p++) {
                float[] expected = java.util.Arrays.copyOfRange(source[p], bases[p], bases[p] + length);
                assertArrayEquals(expected, state.part(p), "part " + p + ", seed " + seed);
            }
        }
    }

    @Test
    void aPartThatArrivesCorruptIsCaughtByItsDigestAndTakenAgain() {
        float[] source = new float[C + 5];
        for (int i = 0; i < source.length; i++) {
            source[i] = i * 0.5f;
        }
        List<ChunkedState.Piece> pieces = ChunkedState.cut(new float[][] {source}, new int[] {0}, source.length);
        ChunkedState state = new ChunkedState(1, source.length);
        float[] flipped = pieces.get(1).values().clone();
        flipped[2] = -flipped[2]; // one float changed on the way, the digest as sent
        state.accept(0, pieces.get(0).offset(), pieces.get(0).values(), pieces.get(0).partDigest());
        state.accept(0, pieces.get(1).offset(), flipped, pieces.get(1).partDigest());
        assertTrue(state.complete());
        assertFalse(state.intact());
        state.restart();
        assertFalse(state.complete());
        for (ChunkedState.Piece c : pieces) {
            state.accept(c.part(), c.offset(), c.values(), c.partDigest());
        }
        assertTrue(state.intact());
        assertArrayEquals(source, state.part(0));
        // a chunk whose part digest differs belongs to another state
        ChunkedState other = new ChunkedState(1, source.length);
        other.accept(0, 0, pieces.get(0).values(), 1L);
        assertEquals(ChunkedState.Accepted.MISFIT, other.accept(0, C, pieces.get(1).values(), 2L));
    }

    @Test
    void theDigestIsTheCrc32cOfTheLittleEndianFloats() {
        // by hand: 1.0f is 0x3f800000, bytes 00 00 80 3f
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(new byte[] {0, 0, (byte) 0x80, 0x3f});
        assertEquals(crc.getValue(), ChunkedState.digest(new float[] {7f, 1f}, 1, 1));
    }

    @Test
    void aChunkSentAgainIsADuplicateAndChangesNothing() {
        ChunkedState state = new ChunkedState(1, C + 3);
        float[] first = new float[C];
        java.util.Arrays.fill(first, 1f);
        assertEquals(ChunkedState.Accepted.NEW, state.accept(0, 0, first, 1L));
        float[] other = new float[C];
        java.util.Arrays.fill(other, 2f);
        assertEquals(ChunkedState.Accepted.DUPLICATE, state.accept(0, 0, other, 1L));
        assertEquals(1f, state.part(0)[C - 1]);
        assertEquals(1, state.missing());
    }

    @Test
    void chunksThatDoNotFitAreRefused() {
        ChunkedState state = new ChunkedState(2, C + 3);
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(2, 0, new float[C], 0L), "no part 2");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(-1, 0, new float[C], 0L));
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, 1, new float[C], 0L), "offset not on a chunk");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, C, new float[C], 0L), "last chunk holds 3 floats");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, 0, new float[C - 1], 0L), "a short chunk");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, 2 * C, new float[3], 0L), "past the end");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, 0, null, 0L));
        assertEquals(4, state.missing());
        assertEquals(ChunkedState.Accepted.NEW, state.accept(1, C, new float[3], 0L));
    }

    @Test
    void aStateWithoutPartsIsCompleteAtOnce() {
        assertTrue(new ChunkedState(0, 100).complete());
        assertThrows(IllegalArgumentException.class, () -> new ChunkedState(-1, 10));
        assertThrows(IllegalArgumentException.class, () -> ChunkedState.slice(new float[10], 0, 10, 3));
    }
}
