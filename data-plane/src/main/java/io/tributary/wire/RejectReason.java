package io.tributary.wire;

/**
 * Why a {@link FrameReceiver} rejected a frame at its header. Step- and chunk-level drops (a stale
 * step, a repeated chunk, an unknown trainer) are the sink's to judge and count: the shard's
 * contribution slots and the replica's assembler keep those counts.
 */
public enum RejectReason {
    /** Shorter than a header, or header length plus payload length differs from the fragment. */
    TRUNCATED,
    /** Not a Tributary frame at all. */
    BAD_MAGIC,
    /** A Tributary frame from a peer speaking another protocol version. */
    BAD_VERSION,
    /** Frame type byte unknown. */
    BAD_TYPE,
    /** Payload encoding byte unknown ({@link Encoding#ofCode(byte)} is null). */
    BAD_ENCODING,
    /** Payload length not a whole number of elements in the frame's encoding. */
    BAD_LENGTH,
    /** Frame belongs to another training run. */
    WRONG_RUN,
    /** No sink registered for this (type, shard, tensor). */
    UNKNOWN_DESTINATION,
    /** Element offset plus element count falls outside the registered destination. */
    OUT_OF_BOUNDS,
    /** Authentication on: unknown or missing session, or a MAC that does not match ({@link FrameAuth}). */
    FORGED,
    /** Authentication on: a sequence number not above the last one accepted from its session and sender. */
    REPLAYED,
    /** A compressed payload that does not decode: an int8 scale exponent out of range, or a value of -128. */
    BAD_PAYLOAD,
    /**
     * Authentic, but its signer's role may not send this type: gradients come only from trainer nodes,
     * parameters only from ps nodes ({@link FrameAuthorizer}).
     */
    NOT_ITS_ROLE,
    /**
     * Authentic, but it speaks for someone else: a gradient for a trainer id the coordinator gave to
     * another node, or while its signer holds another id; parameters under a shard sender id that is not
     * the frame's shard ({@link FrameAuthorizer}).
     */
    NOT_ITS_ID,
    /**
     * Authentic, from a trainer node that holds no trainer id in the current quorum (it left it, or has
     * not been admitted yet): dropped without blame.
     */
    NOT_IN_QUORUM,
    /**
     * Authentic parameters from a ps node that is not the current owner of their shard (as cluster sharding
     * has placed it), or of a shard whose owner this node does not know yet: dropped without blame, since a
     * shard that just moved leaves frames of its old owner in flight ({@link FrameAuthorizer}).
     */
    NOT_OWNER,
    /**
     * Authentic, from a node caught lying earlier ({@link #NOT_ITS_ROLE} or {@link #NOT_ITS_ID}): nothing it
     * sends is taken any more, its honest-looking frames included, until its key is gone.
     */
    CAUGHT_LYING
}
