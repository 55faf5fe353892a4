package io.tributary.ps.wire;

import org.agrona.DirectBuffer;

/**
 * Trainer-side {@link FrameSink} that copies parameter frames into a preallocated {@code float[]}:
 * the trainer's local copy of one shard's tensor, at the newest version seen. Frames of an older
 * version than the newest one seen are ignored. Used on the receiving agent's thread only.
 */
public final class ParameterMirror implements FrameSink {

    private final float[] parameters;
    private long version = Long.MIN_VALUE;
    private long elementsOfVersion;
    private long staleFrames;

    public ParameterMirror(int elementCount) {
        this.parameters = new float[elementCount];
    }

    @Override
    public void onGradient(int sender, int shard, int tensor, long step, int elementOffset, DirectBuffer buffer,
            int payloadOffset, int floatCount) {
        throw new UnsupportedOperationException("ParameterMirror takes parameter frames only");
    }

    @Override
    public void onParameters(int sender, int shard, int tensor, long frameVersion, int elementOffset,
            DirectBuffer buffer, int payloadOffset, int floatCount) {
        if (frameVersion < version) {
            staleFrames++;
            return;
        }
        if (frameVersion > version) {
            version = frameVersion;
            elementsOfVersion = 0;
        }
        DirectFloats.copyToArray(buffer, payloadOffset, parameters, elementOffset, floatCount);
        elementsOfVersion += floatCount;
    }

    /** The local copy; complete for {@link #version()} once {@link #elementsOfVersion()} reaches its length. */
    public float[] parameters() {
        return parameters;
    }

    public long version() {
        return version;
    }

    /** Elements received for the newest version (repeats counted again). */
    public long elementsOfVersion() {
        return elementsOfVersion;
    }

    public long staleFrames() {
        return staleFrames;
    }
}
