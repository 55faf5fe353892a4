package io.tributary.ps.wire;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.agrona.DirectBuffer;

/**
 * Shard-side {@link FrameSink} that sums the gradient chunks of the current step into one
 * preallocated {@code float[]} (the shard's slice of one tensor), tracking per sender which chunks
 * arrived so that a repeated chunk is never added twice and a sender's contribution is known to be
 * complete once all its chunks are in. Frames of an older step are dropped as stale, of a newer one
 * as early (a step is opened with {@link #beginStep(long)} before trainers send for it).
 *
 * <p>Chunks are {@code chunkFloats} elements, the sending {@link FramePublisher#maxPayloadFloats()}:
 * chunk {@code k} covers {@code [k * chunkFloats, min((k + 1) * chunkFloats, elementCount))}.
 *
 * <p>Mutated only on the receiving agent's thread (through {@link FrameReceiver}, or {@code beginStep}
 * between polls); {@link #completedSenders()} and the drop counts may be read from any thread.
 */
public final class GradientAccumulator implements FrameSink {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private final int shard;
    private final int tensor;
    private final int elementCount;
    private final int maxSenders;
    private final int chunkFloats;
    private final int chunkCount;
    private final int wordsPerSender;
    private final float[] accumulator;
    private final float[] scratch;
    private final long[] receivedChunks;
    private final int[] receivedElements;
    private final AtomicLongArray dropped = new AtomicLongArray(RejectReason.values().length);
    private final IntConsumer onSenderComplete;
    private long step;
    private volatile int completedSenders;

    /**
     * @param maxSenders sender ids must lie in {@code [0, maxSenders)}
     * @param chunkFloats elements per chunk, equal to the senders' {@link FramePublisher#maxPayloadFloats()}
     * @param onSenderComplete called on the agent thread with the sender id when its contribution for the step is
     *     complete; may be null
     */
    public GradientAccumulator(int shard, int tensor, int elementCount, int maxSenders, int chunkFloats,
            IntConsumer onSenderComplete) {
        if (elementCount < 1 || maxSenders < 1 || chunkFloats < 1) {
            throw new IllegalArgumentException("elementCount " + elementCount + ", maxSenders " + maxSenders
                    + " and chunkFloats " + chunkFloats + " must all be positive");
        }
        this.shard = shard;
        this.tensor = tensor;
        this.elementCount = elementCount;
        this.maxSenders = maxSenders;
        this.chunkFloats = chunkFloats;
        this.chunkCount = (int) (((long) elementCount + chunkFloats - 1) / chunkFloats);
        this.wordsPerSender = (chunkCount + 63) >>> 6;
        this.accumulator = new float[elementCount];
        this.scratch = new float[Math.min(chunkFloats, elementCount)];
        this.receivedChunks = new long[Math.multiplyExact(maxSenders, wordsPerSender)];
        this.receivedElements = new int[maxSenders];
        this.onSenderComplete = onSenderComplete;
    }

    /** Zeroes the sum and forgets what was received, and accepts frames of {@code newStep} only. */
    public void beginStep(long newStep) {
        Arrays.fill(accumulator, 0f);
        Arrays.fill(receivedChunks, 0L);
        Arrays.fill(receivedElements, 0);
        completedSenders = 0;
        step = newStep;
    }

    @Override
    public void onGradient(int sender, int shard, int tensor, long frameStep, int elementOffset, DirectBuffer buffer,
            int payloadOffset, int floatCount) {
        if (frameStep != step) {
            drop(frameStep < step ? RejectReason.STALE_STEP : RejectReason.EARLY_STEP);
            return;
        }
        if (sender < 0 || sender >= maxSenders) {
            drop(RejectReason.UNKNOWN_SENDER);
            return;
        }
        if (shard != this.shard || tensor != this.tensor || elementOffset < 0 || elementOffset % chunkFloats != 0) {
            drop(RejectReason.MISALIGNED);
            return;
        }
        int chunk = elementOffset / chunkFloats;
        if (chunk >= chunkCount || floatCount != Math.min(chunkFloats, elementCount - elementOffset)) {
            drop(RejectReason.MISALIGNED);
            return;
        }
        int word = sender * wordsPerSender + (chunk >>> 6);
        long bit = 1L << (chunk & 63);
        if ((receivedChunks[word] & bit) != 0) {
            drop(RejectReason.DUPLICATE);
            return;
        }
        receivedChunks[word] |= bit;
        DirectFloats.copyToArray(buffer, payloadOffset, scratch, 0, floatCount);
        add(accumulator, elementOffset, scratch, floatCount);
        int received = receivedElements[sender] + floatCount;
        receivedElements[sender] = received;
        if (received == elementCount) {
            completedSenders = completedSenders + 1;
            if (onSenderComplete != null) {
                onSenderComplete.accept(sender);
            }
        }
    }

    /** {@code acc[accOffset + i] += src[i]} for {@code i < count}, vectorised explicitly (C2 does not, here). */
    static void add(float[] acc, int accOffset, float[] src, int count) {
        int i = 0;
        int upper = SPECIES.loopBound(count);
        for (; i < upper; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, acc, accOffset + i)
                    .add(FloatVector.fromArray(SPECIES, src, i))
                    .intoArray(acc, accOffset + i);
        }
        for (; i < count; i++) {
            acc[accOffset + i] += src[i];
        }
    }

    private void drop(RejectReason reason) {
        dropped.incrementAndGet(reason.ordinal());
    }

    /** The running sum for the current step; complete once every expected sender {@link #isComplete}. */
    public float[] accumulator() {
        return accumulator;
    }

    public long step() {
        return step;
    }

    /** Senders whose whole contribution for the current step has been added; readable from any thread. */
    public int completedSenders() {
        return completedSenders;
    }

    /** Whether all of {@code sender}'s chunks for the current step have been added. */
    public boolean isComplete(int sender) {
        return receivedElements[sender] == elementCount;
    }

    /** Elements of {@code sender}'s contribution added so far in the current step. */
    public int receivedElements(int sender) {
        return receivedElements[sender];
    }

    /** Frames dropped here for {@code reason} (stale, early, duplicate, unknown sender, misaligned). */
    public long dropped(RejectReason reason) {
        return dropped.get(reason.ordinal());
    }

    public int elementCount() {
        return elementCount;
    }

    public int chunkFloats() {
        return chunkFloats;
    }
}
