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
 */
public final class ParameterAssembler {

    /** Told when all shards have delivered the expected version (the oldest version among them is passed). */
    public interface ReadyListener {
        void ready(long version);
    }

    private final ShardLayout layout;
    private final float[] params;
    private final long[] shardVersion;
    private final int[] received;
    private final boolean[][] chunkSeen;
    private final boolean[] complete;
    private final ReadyListener listener;
    private long expected = Long.MAX_VALUE;
    private long stale;

    public ParameterAssembler(ShardLayout layout, ReadyListener listener) {
        this.layout = layout;
        this.params = new float[layout.totalParameters()];
        this.shardVersion = new long[layout.shardCount()];
        this.received = new int[layout.shardCount()];
        this.complete = new boolean[layout.shardCount()];
        this.chunkSeen = new boolean[layout.shardCount()][];
        for (int k = 0; k < layout.shardCount(); k++) {
            chunkSeen[k] = new boolean[(layout.length(k) + ContributionSlots.CHUNK_FLOATS - 1) / ContributionSlots.CHUNK_FLOATS];
        }
        this.listener = listener;
        Arrays.fill(shardVersion, -1);
    }

    public ShardLayout layout() {
        return layout;
    }

    /** The assembled parameters; read them only between {@code ready} and the next {@link #expect}. */
    public float[] parameters() {
        return params;
    }

    /** Waits for {@code version} (or newer) from every shard; tells the listener at once if already there. */
    public void expect(long version) {
        long readyAt;
        synchronized (this) {
            expected = version;
            readyAt = readyVersion();
            if (readyAt >= 0) {
                expected = Long.MAX_VALUE;
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
            DirectFloats.copyToArray(buffer, payloadOffset, params, layout.offset(shard) + elementOffset, floatCount);
            received[shard] += floatCount;
            if (received[shard] < layout.length(shard)) {
                return;
            }
            complete[shard] = true;
            readyAt = readyVersion();
            if (readyAt < 0) {
                return;
            }
            expected = Long.MAX_VALUE;
        }
        listener.ready(readyAt);
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

    /**
     * The version every shard's complete parameters are at, when it is the same for all of them
     * (a consistent cut of the model); -1 when a shard is incomplete or they differ.
     */
    public synchronized long uniformVersion() {
        long v = shardVersion[0];
        for (int k = 0; k < complete.length; k++) {
            if (!complete[k] || shardVersion[k] != v) {
                return -1;
            }
        }
        return v;
    }

    public synchronized long stale() {
        return stale;
    }
}
