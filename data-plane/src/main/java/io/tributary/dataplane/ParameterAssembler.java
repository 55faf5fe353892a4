package io.tributary.dataplane;

import io.tributary.protocol.ShardLayout;
import io.tributary.wire.DirectFloats;
import java.util.Arrays;
import org.agrona.DirectBuffer;

/**
 * The receive side of a model replica (a trainer's, or the coordinator's for evaluation): the
 * shards' parameter chunks are copied into one flat host vector as they arrive. A caller
 * {@link #expect(long) expects} a version; when every shard has delivered all of its elements at
 * that version or a newer one, the listener is told once (on the receiver thread).
 *
 * <p>Double buffered: frames are assembled in a back buffer, and the caller reads the front one
 * ({@link #parameters()}), into which the shards' complete parameters are handed over only when the
 * listener is told, that is after an {@link #expect}. So a caller that reads between {@code ready}
 * and its next {@code expect} reads one consistent set of versions, however many frames of newer
 * ones the receiver writes meanwhile. The hand-over copies only shards whose version changed, and
 * allocates nothing.
 */
public final class ParameterAssembler {

    /** Told when all shards have delivered the expected version (the oldest version among them is passed). */
    public interface ReadyListener {
        void ready(long version);
    }

    private final ShardLayout layout;
    /** Where frames are assembled (the receiver thread writes it). */
    private final float[] back;
    /** What the caller reads: the shards' parameters as of the last hand-over. */
    private final float[] front;
    /** Each shard's version in {@link #front} (-1: none yet). */
    private final long[] frontVersion;
    private final long[] shardVersion;
    private final int[] received;
    private final boolean[][] chunkSeen;
    private final boolean[] complete;
    private final ReadyListener listener;
    private long expected = Long.MAX_VALUE;
    private long stale;

    public ParameterAssembler(ShardLayout layout, ReadyListener listener) {
        this.layout = layout;
        this.back = new float[layout.totalParameters()];
        this.front = new float[layout.totalParameters()];
        this.frontVersion = new long[layout.shardCount()];
        this.shardVersion = new long[layout.shardCount()];
        this.received = new int[layout.shardCount()];
        this.complete = new boolean[layout.shardCount()];
        this.chunkSeen = new boolean[layout.shardCount()][];
        for (int k = 0; k < layout.shardCount(); k++) {
            chunkSeen[k] = new boolean[(layout.length(k) + ContributionSlots.CHUNK_FLOATS - 1) / ContributionSlots.CHUNK_FLOATS];
        }
        this.listener = listener;
        Arrays.fill(shardVersion, -1);
        Arrays.fill(frontVersion, -1);
    }

    public ShardLayout layout() {
        return layout;
    }

    /**
     * The parameters handed over at the last {@code ready}; they stay as they are until the next
     * {@code ready}, which only follows an {@link #expect}: read them between the two.
     */
    public float[] parameters() {
        return front;
    }

    /** Waits for {@code version} (or newer) from every shard; tells the listener at once if already there. */
    public void expect(long version) {
        long readyAt;
        synchronized (this) {
            expected = version;
            readyAt = readyVersion();
            if (readyAt >= 0) {
                handOver();
            }
        }
        if (readyAt >= 0) {
            listener.ready(readyAt);
        }
    }

    /** Copies one parameter chunk of {@code shard} at {@code version}; called on the receiver thread. */
    public void onChunk(int shard, long version, int elementOffset, DirectBuffer buffer, int payloadOffset, int floatCount) {
        long readyAt;
        synchronized (this) {
            if (version < shardVersion[shard]) {
                stale++;
                return;
            }
            if (version > shardVersion[shard]) {
                shardVersion[shard] = version;
                received[shard] = 0;
                complete[shard] = false;
                Arrays.fill(chunkSeen[shard], false);
            }
            int chunk = elementOffset / ContributionSlots.CHUNK_FLOATS;
            if (complete[shard] || chunkSeen[shard][chunk]) {
                stale++;
                return;
            }
            chunkSeen[shard][chunk] = true;
            DirectFloats.copyToArray(buffer, payloadOffset, back, layout.offset(shard) + elementOffset, floatCount);
            received[shard] += floatCount;
            if (received[shard] < layout.length(shard)) {
                return;
            }
            complete[shard] = true;
            readyAt = readyVersion();
            if (readyAt < 0) {
                return;
            }
            handOver();
        }
        listener.ready(readyAt);
    }

    /**
     * Every shard is complete at or above the expected version: their parameters go to the front
     * (only the shards whose version changed since the last hand-over) and nothing is expected any more.
     */
    private void handOver() {
        for (int k = 0; k < shardVersion.length; k++) {
            if (frontVersion[k] != shardVersion[k]) {
                System.arraycopy(back, layout.offset(k), front, layout.offset(k), layout.length(k));
                frontVersion[k] = shardVersion[k];
            }
        }
        expected = Long.MAX_VALUE;
    }

    /** The oldest complete shard version when all are complete at or above the expected one, else -1. */
    private long readyVersion() {
        if (expected == Long.MAX_VALUE) {
            return -1;
        }
        long min = Long.MAX_VALUE;
        for (int k = 0; k < complete.length; k++) {
            if (!complete[k] || shardVersion[k] < expected) {
                return -1;
            }
            min = Math.min(min, shardVersion[k]);
        }
        return min;
    }

    /** The version of each shard's part of {@link #parameters()} (-1 for one not yet held); a copy. */
    public synchronized long[] versions() {
        return frontVersion.clone();
    }

    /**
     * The version every shard's parameters in {@link #parameters()} are at, when it is the same for
     * all of them (a consistent cut of the model); -1 when they differ or none were handed over yet.
     */
    public synchronized long uniformVersion() {
        long v = frontVersion[0];
        for (int k = 0; k < frontVersion.length; k++) {
            if (frontVersion[k] != v) {
                return -1;
            }
        }
        return v;
    }

    public synchronized long stale() {
        return stale;
    }
}
