package io.tributary.dataplane;

import io.tributary.wire.DirectFloats;
import io.tributary.wire.FramePublisher;
import io.tributary.wire.FrameHeader;
import java.util.Arrays;
import org.agrona.DirectBuffer;

/**
 * The receive side of one parameter shard: one preallocated slot per trainer, into which that
 * trainer's gradient chunks for a step are copied as they arrive (on the data plane's receiver
 * thread). A slot completes when every element has arrived once; duplicates (same step, same
 * chunk) and chunks of steps the shard no longer accepts are dropped and counted. The shard
 * reads a completed slot after the completion notice and then releases it.
 *
 * <p>Keeping contributions apart, rather than summing on arrival, is what lets the shard drop a
 * late trainer, apply contributions one by one (bounded staleness) or aggregate robustly.
 */
public final class ContributionSlots {

    /** Told (on the receiver thread) when a trainer's gradient for a step is complete. */
    public interface CompletionListener {
        void completed(int trainer, long step);
    }

    /** Elements per chunk: the frame payload size every {@link FramePublisher} uses by default. */
    public static final int CHUNK_FLOATS = (FramePublisher.DEFAULT_MAX_FRAME_LENGTH - FrameHeader.HEADER_LENGTH) / Float.BYTES;

    private final int length;
    private final int chunks;
    private final float[][] slots;
    private final long[] slotStep;
    private final int[] received;
    private final boolean[][] chunkSeen;
    private final boolean[] sealed;
    private final CompletionListener listener;
    private volatile long minAcceptedStep;
    private volatile boolean strictOrder = true;
    private long duplicates;
    private long stale;
    private long unknownSender;

    public ContributionSlots(int length, int maxTrainers, CompletionListener listener) {
        this.length = length;
        this.chunks = (length + CHUNK_FLOATS - 1) / CHUNK_FLOATS;
        this.slots = new float[maxTrainers][length];
        this.slotStep = new long[maxTrainers];
        this.received = new int[maxTrainers];
        this.chunkSeen = new boolean[maxTrainers][Math.max(chunks, 1)];
        this.sealed = new boolean[maxTrainers];
        this.listener = listener;
        Arrays.fill(slotStep, -1);
    }

    public int length() {
        return length;
    }

    public int maxTrainers() {
        return slots.length;
    }

    /** Frames of steps below {@code step} are dropped from now on. */
    public void acceptFrom(long step) {
        minAcceptedStep = step;
    }

    /** Copies one chunk in; called on the receiver thread. */
    public synchronized void onChunk(int trainer, long step, int elementOffset, DirectBuffer buffer, int payloadOffset,
                                     int floatCount) {
        if (trainer < 0 || trainer >= slots.length) {
            unknownSender++;
            return;
        }
        if (step < minAcceptedStep || sealed[trainer] && slotStep[trainer] != step) {
            stale++;
            return;
        }
        if (slotStep[trainer] != step) {
            if (slotStep[trainer] > step && strictOrder) {
                stale++;
                return;
            }
            // Not strict (sync): a partial gradient of a later step gives way to an earlier one. Only a
            // trainer rewound after a rollback goes back, and its later step is void.
            slotStep[trainer] = step;
            received[trainer] = 0;
            Arrays.fill(chunkSeen[trainer], false);
        }
        int chunk = elementOffset / CHUNK_FLOATS;
        if (sealed[trainer] || chunkSeen[trainer][chunk]) {
            duplicates++;
            return;
        }
        chunkSeen[trainer][chunk] = true;
        DirectFloats.copyToArray(buffer, payloadOffset, slots[trainer], elementOffset, floatCount);
        received[trainer] += floatCount;
        if (received[trainer] == length) {
            sealed[trainer] = true;
            listener.completed(trainer, step);
        }
    }

    /** The completed gradient of {@code trainer}; valid until {@link #release}. */
    public float[] slot(int trainer) {
        synchronized (this) {
            return slots[trainer];
        }
    }

    /**
     * Strict (the default): a chunk of a step older than the slot's is dropped, so no gradient is
     * applied twice even where the shard applies whatever completes (bounded staleness). Not strict:
     * an older step restarts a slot that holds a partial newer one; for the sync policy, whose shard
     * applies a gradient only at the step it stands at, so that a trainer rewound after a rollback
     * is not locked out by frames of its void steps.
     */
    public void strictOrder(boolean strict) {
        this.strictOrder = strict;
    }

    /** Frees every slot and forgets their steps (a shard rolled back to a checkpoint). */
    public synchronized void resetAll() {
        for (int t = 0; t < slots.length; t++) {
            sealed[t] = false;
            received[t] = 0;
            slotStep[t] = -1;
            Arrays.fill(chunkSeen[t], false);
        }
    }

    /**
     * Trainer {@code trainer} left the quorum: a partial gradient in its slot is dropped and the
     * slot's step forgotten, so that a trainer that gets the id later (ids are reused) neither
     * completes the slot with the other's chunks nor finds it held at the other's step. A completed
     * gradient stays: the step in hand may still aggregate it, and the shard releases it.
     */
    public synchronized void forget(int trainer) {
        if (trainer < 0 || trainer >= slots.length || sealed[trainer]) {
            return;
        }
        received[trainer] = 0;
        slotStep[trainer] = -1;
        Arrays.fill(chunkSeen[trainer], false);
    }

    /** Frees a trainer's slot for its next step. */
    public synchronized void release(int trainer) {
        sealed[trainer] = false;
        received[trainer] = 0;
        Arrays.fill(chunkSeen[trainer], false);
    }

    public synchronized long duplicates() {
        return duplicates;
    }

    public synchronized long stale() {
        return stale;
    }

    public synchronized long unknownSender() {
        return unknownSender;
    }
}
