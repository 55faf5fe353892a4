package io.tributary.wire;

/**
 * What a frame's signer may say, checked after its MAC and sequence ({@link FrameAuth}): the MAC proves
 * which node signed a frame, this decides whether that node may send a frame of this type, from this
 * sender id, for this shard and tensor. Called on the receiver thread for every authentic frame, so an
 * implementation must not allocate or block.
 */
@FunctionalInterface
public interface FrameAuthorizer {

    /**
     * @param session the signer's verified data-plane session ({@link FrameAuth#sessionId()} of its node)
     * @param type    {@link FrameType#code()} of the frame
     * @return null when the signer may send this frame, otherwise why not (counted under that reason)
     */
    RejectReason check(int session, byte type, int sender, int shard, int tensor);
}
