package io.tributary.ps.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class GradientAccumulatorTest {

    private static final int CHUNK = 8;

    private static UnsafeBuffer payload(float[] values) {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[values.length * Float.BYTES + 16]);
        for (int i = 0; i < values.length; i++) {
            buffer.putFloat(16 + i * Float.BYTES, values[i], ByteOrder.LITTLE_ENDIAN);
        }
        return buffer;
    }

    /** Feeds {@code values} as chunks of {@link #CHUNK} elements, like a FramePublisher would. */
    private static void feed(GradientAccumulator acc, int sender, long step, float[] values) {
        UnsafeBuffer buffer = payload(values);
        for (int off = 0; off < values.length; off += CHUNK) {
            int n = Math.min(CHUNK, values.length - off);
            acc.onGradient(sender, 0, 0, step, off, buffer, 16 + off * Float.BYTES, n);
        }
    }

    @Test
    void sumsTwoSendersAndReportsCompletionPerSender() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 37;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
            b[i] = (float) rnd.nextDouble(-1, 1);
        }
        List<Integer> completed = new ArrayList<>();
        GradientAccumulator acc = new GradientAccumulator(0, 0, n, 4, CHUNK, completed::add);
        acc.beginStep(5);
        feed(acc, 2, 5, a);
        assertTrue(acc.isComplete(2), "seed " + seed);
        assertFalse(acc.isComplete(1));
        assertEquals(1, acc.completedSenders());
        feed(acc, 1, 5, b);
        assertEquals(List.of(2, 1), completed);
        for (int i = 0; i < n; i++) {
            assertEquals(a[i] + b[i], acc.accumulator()[i], "element " + i + ", seed " + seed);
        }
    }

    @Test
    void duplicateChunksAreNotAddedTwice() {
        float[] g = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        GradientAccumulator acc = new GradientAccumulator(0, 0, g.length, 1, CHUNK, null);
        acc.beginStep(1);
        feed(acc, 0, 1, g);
        feed(acc, 0, 1, g);
        for (int i = 0; i < g.length; i++) {
            assertEquals(g[i], acc.accumulator()[i]);
        }
        assertEquals(2, acc.dropped(RejectReason.DUPLICATE));
        assertEquals(1, acc.completedSenders());
        assertEquals(g.length, acc.receivedElements(0));
    }

    @Test
    void staleAndEarlyStepsAreDroppedAndCounted() {
        float[] g = {1, 2, 3};
        GradientAccumulator acc = new GradientAccumulator(0, 0, g.length, 1, CHUNK, null);
        acc.beginStep(10);
        feed(acc, 0, 9, g);
        feed(acc, 0, 11, g);
        assertEquals(1, acc.dropped(RejectReason.STALE_STEP));
        assertEquals(1, acc.dropped(RejectReason.EARLY_STEP));
        assertEquals(0f, acc.accumulator()[0]);
        acc.beginStep(11);
        feed(acc, 0, 11, g);
        assertEquals(3f, acc.accumulator()[2]);
        assertTrue(acc.isComplete(0));
    }

    @Test
    void misalignedChunksAndUnknownSendersAreDropped() {
        GradientAccumulator acc = new GradientAccumulator(0, 0, 20, 2, CHUNK, null);
        acc.beginStep(0);
        UnsafeBuffer buffer = payload(new float[CHUNK]);
        acc.onGradient(0, 0, 0, 0, 3, buffer, 16, CHUNK);
        acc.onGradient(0, 0, 0, 0, 0, buffer, 16, CHUNK - 1);
        acc.onGradient(5, 0, 0, 0, 0, buffer, 16, CHUNK);
        assertEquals(2, acc.dropped(RejectReason.MISALIGNED));
        assertEquals(1, acc.dropped(RejectReason.UNKNOWN_SENDER));
        assertEquals(0, acc.receivedElements(0));
    }
}
