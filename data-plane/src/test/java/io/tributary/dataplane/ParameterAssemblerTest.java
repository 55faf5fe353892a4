package io.tributary.dataplane;

import static io.tributary.dataplane.ContributionSlots.CHUNK_FLOATS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.ShardLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class ParameterAssemblerTest {

    private static final int PAYLOAD_OFFSET = 64;
    /** Three shards of two chunks and a bit each. */
    private static final ShardLayout LAYOUT = new ShardLayout(3 * (2 * CHUNK_FLOATS + 5) + 2, 3);

    private final List<Long> ready = new ArrayList<>();
    private final ParameterAssembler assembler = new ParameterAssembler(LAYOUT, ready::add);

    private static float[] parameters(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] p = new float[LAYOUT.totalParameters()];
        for (int i = 0; i < p.length; i++) {
            p[i] = Float.intBitsToFloat(rnd.nextInt()); // any bits, NaN payloads and -0.0 included
        }
        return p;
    }

    private static UnsafeBuffer payload(float[] values, int offset, int length) {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[PAYLOAD_OFFSET + length * Float.BYTES]);
        for (int i = 0; i < length; i++) {
            buffer.putFloat(PAYLOAD_OFFSET + i * Float.BYTES, values[offset + i], ByteOrder.LITTLE_ENDIAN);
        }
        return buffer;
    }

    /** Delivers {@code shard}'s slice of {@code all} at {@code version}, chunk by chunk, up to chunk {@code upTo}. */
    private void deliver(int shard, long version, float[] all, int upTo) {
        int length = LAYOUT.length(shard);
        UnsafeBuffer buffer = payload(all, LAYOUT.offset(shard), length);
        for (int c = 0, offset = 0; offset < length && c < upTo; c++, offset += CHUNK_FLOATS) {
            assembler.onChunk(shard, version, offset, buffer, PAYLOAD_OFFSET + offset * Float.BYTES,
                    Math.min(CHUNK_FLOATS, length - offset));
        }
    }

    private void deliver(int shard, long version, float[] all) {
        deliver(shard, version, all, Integer.MAX_VALUE);
    }

    private static float[] slice(float[] all, int shard) {
        return Arrays.copyOfRange(all, LAYOUT.offset(shard), LAYOUT.offset(shard) + LAYOUT.length(shard));
    }

    private float[] assembledSlice(int shard) {
        return slice(assembler.parameters(), shard);
    }

    @Test
    void readyFiresOnceWhenEveryShardHasDeliveredTheExpectedVersionOrNewer() {
        float[] v3 = parameters(3);
        float[] v4 = parameters(4);
        assembler.expect(3);
        deliver(0, 3, v3);
        deliver(2, 4, v4);
        deliver(1, 3, v3, 2);
        assertEquals(List.of(), ready, "shard 1 is one chunk short");
        deliver(1, 3, v3);
        assertEquals(List.of(3L), ready, "the oldest version among the shards is reported");
        assertArrayEquals(slice(v3, 0), assembledSlice(0));
        assertArrayEquals(slice(v3, 1), assembledSlice(1));
        assertArrayEquals(slice(v4, 2), assembledSlice(2));

        deliver(0, 4, v4);
        deliver(1, 4, v4);
        assertEquals(List.of(3L), ready, "nothing expected: no second notice");
    }

    @Test
    void olderVersionsThanAShardsNewestAreIgnoredAndCounted() {
        float[] v5 = parameters(5);
        float[] v4 = parameters(4);
        deliver(0, 5, v5, 1);
        deliver(0, 4, v4);
        assertEquals(3, assembler.stale());
        assertArrayEquals(new float[LAYOUT.totalParameters()], assembler.parameters(), "nothing handed over before a ready");

        assembler.expect(4);
        deliver(0, 5, v5);
        deliver(1, 5, v5);
        deliver(2, 5, v5);
        assertEquals(List.of(5L), ready);
        assertEquals(Float.floatToRawIntBits(v5[LAYOUT.totalParameters() - 1]),
                Float.floatToRawIntBits(assembler.parameters()[LAYOUT.totalParameters() - 1]));
    }

    @Test
    void aRepeatedChunkOfTheSameVersionIsNotCopiedAgain() {
        float[] v1 = parameters(1);
        float[] other = parameters(99);
        deliver(1, 1, v1, 1);
        deliver(1, 1, other, 1);
        assertEquals(1, assembler.stale());
        for (int k = 0; k < LAYOUT.shardCount(); k++) {
            deliver(k, 1, v1);
        }
        assembler.expect(1);
        assertArrayEquals(v1, assembler.parameters());
    }

    @Test
    void expectingAVersionAlreadyAssembledFiresAtOnce() {
        float[] v2 = parameters(2);
        for (int k = 0; k < LAYOUT.shardCount(); k++) {
            deliver(k, 2, v2);
        }
        assertEquals(List.of(), ready, "nothing expected yet");
        assembler.expect(2);
        assertEquals(List.of(2L), ready);
        assembler.expect(1);
        assertEquals(List.of(2L, 2L), ready, "an older expectation is met by a newer version");
        assembler.expect(3);
        assertEquals(List.of(2L, 2L), ready);
        assertArrayEquals(v2, assembler.parameters());
    }

    @Test
    void aHeldVersionStaysExactlyAsItWasWhileFramesOfANewerOneArrive() {
        float[] v1 = parameters(1);
        float[] v2 = parameters(2);
        assembler.expect(1);
        for (int k = 0; k < LAYOUT.shardCount(); k++) {
            deliver(k, 1, v1);
        }
        assertEquals(List.of(1L), ready);
        float[] held = assembler.parameters();
        deliver(0, 2, v2, 1); // half of shard 0's v2
        deliver(1, 2, v2); // all of shard 1's
        assertArrayEquals(v1, held, "the view read after ready(1) must still be exactly v1");
        assertEquals(1, assembler.uniformVersion());

        deliver(2, 2, v2);
        deliver(0, 2, v2);
        assertArrayEquals(v1, assembler.parameters(), "v2 is complete but not expected yet: no hand-over");
        assembler.expect(2);
        assertEquals(List.of(1L, 2L), ready);
        assertArrayEquals(v2, assembler.parameters());
        assertEquals(2, assembler.uniformVersion());
    }

    /**
     * A real interleaving: the receiver thread writes version after version (every element of
     * version v is v mod 2) while the reader expects a version, waits for it and checks that every shard's
     * elements it reads are of one version, over and over. Bounded to 2 s.
     */
    @Test
    void aReaderOnAnotherThreadNeverSeesTwoVersionsMixed() throws Exception {
        java.util.concurrent.BlockingQueue<Long> readyQueue = new java.util.concurrent.LinkedBlockingQueue<>();
        ParameterAssembler shared = new ParameterAssembler(LAYOUT, readyQueue::add);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        UnsafeBuffer[] payloads = new UnsafeBuffer[2];
        int maxLength = 0;
        for (int k = 0; k < LAYOUT.shardCount(); k++) {
            maxLength = Math.max(maxLength, LAYOUT.length(k));
        }
        for (int b = 0; b < 2; b++) {
            float[] values = new float[maxLength];
            Arrays.fill(values, b);
            payloads[b] = payload(values, 0, maxLength);
        }
        Thread receiver = new Thread(() -> {
            for (long v = 0; !stop.get(); v++) {
                // a version's payload: the value v for even v, then odd; checked as "all equal" by the reader
                UnsafeBuffer buffer = payloads[(int) (v & 1)];
                for (int k = 0; k < LAYOUT.shardCount(); k++) {
                    int length = LAYOUT.length(k);
                    for (int offset = 0; offset < length; offset += CHUNK_FLOATS) {
                        shared.onChunk(k, v, offset, buffer, PAYLOAD_OFFSET + offset * Float.BYTES,
                                Math.min(CHUNK_FLOATS, length - offset));
                    }
                }
            }
        }, "test-receiver");
        receiver.start();
        long deadline = System.nanoTime() + 2_000_000_000L;
        int reads = 0;
        int torn = 0;
        try {
            long want = 0;
            while (System.nanoTime() < deadline) {
                shared.expect(want);
                Long got = readyQueue.poll(500, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (got == null) {
                    continue;
                }
                // shards may stand at different versions (each at the expected one or newer); a shard's own
                // range must be of one version
                float[] p = shared.parameters();
                for (int k = 0; k < LAYOUT.shardCount(); k++) {
                    float first = p[LAYOUT.offset(k)];
                    for (int i = LAYOUT.offset(k); i < LAYOUT.offset(k) + LAYOUT.length(k); i++) {
                        if (p[i] != first) {
                            torn++;
                            break;
                        }
                    }
                }
                reads++;
                want = got + 1;
            }
        } finally {
            stop.set(true);
            receiver.join(5_000);
        }
        assertTrue(reads > 10, "the reader got only " + reads + " versions in 2 s");
        assertEquals(0, torn, torn + " shard ranges of " + reads + " reads mixed two versions");
    }
}
