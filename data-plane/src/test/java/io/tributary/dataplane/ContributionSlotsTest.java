package io.tributary.dataplane;

import static io.tributary.dataplane.ContributionSlots.CHUNK_FLOATS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class ContributionSlotsTest {

    /** Where payloads start in the test buffers, as they start after a frame header on the wire. */
    private static final int PAYLOAD_OFFSET = 64;
    private static final int LENGTH = 2 * CHUNK_FLOATS + 7;

    private final List<String> completions = new ArrayList<>();
    private final ContributionSlots slots = new ContributionSlots(LENGTH, 3,
            (trainer, step) -> completions.add(trainer + "@" + step));

    private static float[] gradient(SplittableRandom rnd, int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (float) rnd.nextDouble(-1, 1);
        }
        return g;
    }

    private static UnsafeBuffer payload(float[] values) {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[PAYLOAD_OFFSET + values.length * Float.BYTES]);
        for (int i = 0; i < values.length; i++) {
            buffer.putFloat(PAYLOAD_OFFSET + i * Float.BYTES, values[i], ByteOrder.LITTLE_ENDIAN);
        }
        return buffer;
    }

    private static int chunks(int length) {
        return (length + CHUNK_FLOATS - 1) / CHUNK_FLOATS;
    }

    /** Hands chunk {@code chunk} of {@code values} to the slots, cut as a FramePublisher cuts it. */
    private static void feedChunk(ContributionSlots slots, int trainer, long step, UnsafeBuffer values, int length,
                                  int chunk) {
        int offset = chunk * CHUNK_FLOATS;
        slots.onChunk(trainer, step, offset, values, PAYLOAD_OFFSET + offset * Float.BYTES,
                Math.min(CHUNK_FLOATS, length - offset));
    }

    private static void feed(ContributionSlots slots, int trainer, long step, float[] values) {
        UnsafeBuffer buffer = payload(values);
        for (int c = 0; c < chunks(values.length); c++) {
            feedChunk(slots, trainer, step, buffer, values.length, c);
        }
    }

    @Test
    void slotCompletesExactlyWhenEveryElementHasArrivedInAnyOrder() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] g = gradient(rnd, LENGTH);
        UnsafeBuffer buffer = payload(g);
        int[] order = {0, 1, 2};
        for (int i = order.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        for (int k = 0; k < order.length; k++) {
            assertEquals(List.of(), completions, "complete after " + k + " of 3 chunks, seed " + seed);
            feedChunk(slots, 1, 7, buffer, LENGTH, order[k]);
        }
        assertEquals(List.of("1@7"), completions, "seed " + seed);
        assertArrayEquals(g, slots.slot(1), "seed " + seed);
        assertEquals(0, slots.duplicates() + slots.stale() + slots.unknownSender());
    }

    @Test
    void trainersFillTheirOwnSlots() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = gradient(rnd, LENGTH);
        float[] b = gradient(rnd, LENGTH);
        feed(slots, 2, 3, a);
        feed(slots, 0, 3, b);
        assertEquals(List.of("2@3", "0@3"), completions);
        assertArrayEquals(a, slots.slot(2), "seed " + seed);
        assertArrayEquals(b, slots.slot(0), "seed " + seed);
    }

    @Test
    void duplicateChunksAreNotAppliedTwiceAndAreCounted() {
        float[] first = gradient(new SplittableRandom(1), LENGTH);
        float[] repeat = gradient(new SplittableRandom(2), LENGTH);
        UnsafeBuffer repeatBuffer = payload(repeat);
        feedChunk(slots, 0, 4, payload(first), LENGTH, 0);
        // Same trainer, step and chunk again, with other contents: dropped before the copy.
        feedChunk(slots, 0, 4, repeatBuffer, LENGTH, 0);
        assertEquals(1, slots.duplicates());
        assertEquals(first[0], slots.slot(0)[0]);

        feedChunk(slots, 0, 4, payload(first), LENGTH, 1);
        feedChunk(slots, 0, 4, payload(first), LENGTH, 2);
        assertEquals(List.of("0@4"), completions);
        // A whole resend after completion changes nothing and completes nothing.
        feed(slots, 0, 4, repeat);
        assertEquals(List.of("0@4"), completions);
        assertEquals(1 + chunks(LENGTH), slots.duplicates());
        assertArrayEquals(first, slots.slot(0));
    }

    @Test
    void chunksOfStepsBelowTheAcceptedOneAreDroppedAndCounted() {
        float[] g = gradient(new SplittableRandom(3), LENGTH);
        slots.acceptFrom(5);
        feed(slots, 1, 4, g);
        assertEquals(chunks(LENGTH), slots.stale());
        assertEquals(List.of(), completions);
        assertEquals(0f, slots.slot(1)[0]);

        feed(slots, 1, 5, g);
        assertEquals(List.of("1@5"), completions);
        assertArrayEquals(g, slots.slot(1));
    }

    @Test
    void chunksOfAnOlderStepThanTheSlotsAreDroppedAndCounted() {
        float[] g = gradient(new SplittableRandom(4), LENGTH);
        UnsafeBuffer buffer = payload(g);
        feedChunk(slots, 0, 9, buffer, LENGTH, 0);
        feedChunk(slots, 0, 8, buffer, LENGTH, 1);
        assertEquals(1, slots.stale());
        assertEquals(List.of(), completions);
    }

    @Test
    void notStrictAnOlderStepRestartsASlotHoldingAPartialNewerOne() {
        slots.strictOrder(false);
        float[] g = gradient(new SplittableRandom(8), LENGTH);
        UnsafeBuffer buffer = payload(g);
        feedChunk(slots, 0, 79, buffer, LENGTH, 0); // a void step's first chunk, after a rollback
        feed(slots, 0, 50, g);                       // the rewound trainer's step
        assertEquals(List.of("0@50"), completions);
        assertArrayEquals(g, slots.slot(0));
        assertEquals(0, slots.stale());
    }

    @Test
    void unknownTrainerIdsAreCountedAndTouchNoSlot() {
        float[] g = gradient(new SplittableRandom(5), LENGTH);
        UnsafeBuffer buffer = payload(g);
        feedChunk(slots, 3, 1, buffer, LENGTH, 0);
        feedChunk(slots, -1, 1, buffer, LENGTH, 0);
        assertEquals(2, slots.unknownSender());
        assertEquals(List.of(), completions);
        for (int t = 0; t < slots.maxTrainers(); t++) {
            assertEquals(0f, slots.slot(t)[0]);
        }
    }

    @Test
    void releaseLetsTheTrainersNextStepIn() {
        float[] step1 = gradient(new SplittableRandom(6), LENGTH);
        float[] step2 = gradient(new SplittableRandom(7), LENGTH);
        feed(slots, 2, 1, step1);
        assertEquals(List.of("2@1"), completions);

        // The shard still reads step 1's gradient: step 2 may not overwrite it yet.
        feed(slots, 2, 2, step2);
        assertEquals(chunks(LENGTH), slots.stale());
        assertArrayEquals(step1, slots.slot(2));

        slots.release(2);
        feed(slots, 2, 2, step2);
        assertEquals(List.of("2@1", "2@2"), completions);
        assertArrayEquals(step2, slots.slot(2));

        slots.release(2);
        feed(slots, 2, 1, step1);
        assertEquals(2L * chunks(LENGTH), slots.stale(), "a released slot does not go back to an older step");
        assertTrue(completions.size() == 2);
    }

    @Test
    void aGradientShorterThanOneChunkCompletesWithItsOnlyFrame() {
        ContributionSlots small = new ContributionSlots(3, 1, (trainer, step) -> completions.add(trainer + "@" + step));
        float[] g = {1.5f, -2f, 0.25f};
        feed(small, 0, 0, g);
        assertEquals(List.of("0@0"), completions);
        assertArrayEquals(g, small.slot(0));
    }

    @Test
    void aTrainerThatLeavesTheQuorumLeavesNoPartialGradientForTheNextHolderOfItsId() {
        SplittableRandom rnd = new SplittableRandom(15);
        float[] gone = gradient(rnd, LENGTH);
        float[] next = gradient(rnd, LENGTH);
        feedChunk(slots, 1, 4, payload(gone), LENGTH, 0); // died after its first chunk of step 4
        slots.forget(1);
        UnsafeBuffer nextBuffer = payload(next);
        for (int c = 1; c < chunks(LENGTH); c++) {
            feedChunk(slots, 1, 4, nextBuffer, LENGTH, c); // the id's next holder, same step, chunks 1.. first
        }
        assertEquals(List.of(), completions, "the gone trainer's chunk 0 must not complete the new one's gradient");
        feedChunk(slots, 1, 4, nextBuffer, LENGTH, 0);
        assertEquals(List.of("1@4"), completions);
        assertArrayEquals(next, slots.slot(1));
    }

    @Test
    void forgettingAStrictSlotLetsTheNextHolderOfTheIdStartBelowTheGoneTrainersStep() {
        SplittableRandom rnd = new SplittableRandom(16);
        float[] next = gradient(rnd, LENGTH);
        feedChunk(slots, 2, 9, payload(gradient(rnd, LENGTH)), LENGTH, 0);
        slots.forget(2);
        feed(slots, 2, 7, next);
        assertEquals(List.of("2@7"), completions);
        assertArrayEquals(next, slots.slot(2));
    }

    @Test
    void forgettingKeepsACompletedGradientTheStepInHandMayStillAggregate() {
        float[] done = gradient(new SplittableRandom(17), LENGTH);
        feed(slots, 0, 3, done);
        slots.forget(0);
        assertArrayEquals(done, slots.slot(0));
        assertEquals(List.of("0@3"), completions);
    }
}
