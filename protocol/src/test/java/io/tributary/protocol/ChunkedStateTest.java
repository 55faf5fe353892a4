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
            int base = rnd.nextInt(50);
            float[][] source = new float[parts][base + length + 10];
            for (float[] s : source) {
                for (int i = 0; i < s.length; i++) {
                    s[i] = rnd.nextFloat();
                }
            }
            List<int[]> chunks = new ArrayList<>();
            for (int p = 0; p < parts; p++) {
                for (int off = 0; off < length; off += C) {
                    chunks.add(new int[] {p, off});
                    if (rnd.nextBoolean()) {
                        chunks.add(new int[] {p, off}); // sent again
                    }
                }
            }
            Collections.shuffle(chunks, rnd);
            ChunkedState state = new ChunkedState(parts, length);
            int expectedChunks = parts * ((length + C - 1) / C);
            assertEquals(expectedChunks, state.missing(), "seed " + seed);
            int fresh = 0;
            for (int[] c : chunks) {
                assertFalse(state.complete(), "complete before every chunk arrived, seed " + seed);
                ChunkedState.Accepted a = state.accept(c[0], c[1], ChunkedState.slice(source[c[0]], base, length, c[1]));
                fresh += a == ChunkedState.Accepted.NEW ? 1 : 0;
                if (fresh == expectedChunks) {
                    break;
                }
            }
            assertTrue(state.complete(), "seed " + seed);
            for (int p = 0; p < parts; p++) {
                float[] expected = java.util.Arrays.copyOfRange(source[p], base, base + length);
                assertArrayEquals(expected, state.part(p), "part " + p + ", seed " + seed);
            }
        }
    }

    @Test
    void aChunkSentAgainIsADuplicateAndChangesNothing() {
        ChunkedState state = new ChunkedState(1, C + 3);
        float[] first = new float[C];
        java.util.Arrays.fill(first, 1f);
        assertEquals(ChunkedState.Accepted.NEW, state.accept(0, 0, first));
        float[] other = new float[C];
        java.util.Arrays.fill(other, 2f);
        assertEquals(ChunkedState.Accepted.DUPLICATE, state.accept(0, 0, other));
        assertEquals(1f, state.part(0)[C - 1]);
        assertEquals(1, state.missing());
    }

    @Test
    void chunksThatDoNotFitAreRefused() {
        ChunkedState state = new ChunkedState(2, C + 3);
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(2, 0, new float[C]), "no part 2");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(-1, 0, new float[C]));
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, 1, new float[C]), "offset not on a chunk");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, C, new float[C]), "last chunk holds 3 floats");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, 0, new float[C - 1]), "a short chunk");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, 2 * C, new float[3]), "past the end");
        assertEquals(ChunkedState.Accepted.MISFIT, state.accept(0, 0, null));
        assertEquals(4, state.missing());
        assertEquals(ChunkedState.Accepted.NEW, state.accept(1, C, new float[3]));
    }

    @Test
    void aStateWithoutPartsIsCompleteAtOnce() {
        assertTrue(new ChunkedState(0, 100).complete());
        assertThrows(IllegalArgumentException.class, () -> new ChunkedState(-1, 10));
        assertThrows(IllegalArgumentException.class, () -> ChunkedState.slice(new float[10], 0, 10, 3));
    }
}
