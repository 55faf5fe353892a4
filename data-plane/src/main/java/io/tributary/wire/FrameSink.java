package io.tributary.wire;

import org.agrona.DirectBuffer;

/**
 * Where a {@link FrameReceiver} hands frames whose header it has validated: the payload is
 * {@code floatCount} little-endian floats at {@code buffer[payloadOffset..]}, to be copied or summed
 * before the call returns (the buffer is reused). Called on the receiver's agent thread.
 */
public interface FrameSink {

    /** A gradient chunk for {@code step}, destined for elements {@code [elementOffset, elementOffset + floatCount)}. */
    void onGradient(int sender, int shard, int tensor, long step, int elementOffset, DirectBuffer buffer,
            int payloadOffset, int floatCount);

    /**
     * A parameter chunk of model {@code version}. Only sinks registered with
     * {@link FrameReceiver#registerParameters} receive these.
     */
    default void onParameters(int sender, int shard, int tensor, long version, int elementOffset, DirectBuffer buffer,
            int payloadOffset, int floatCount) {
        throw new UnsupportedOperationException(getClass().getName() + " does not take parameter frames");
    }
}
