package io.tributary.ps.wire;

/**
 * Why a received frame was not applied. The receiver counts the header-level reasons, a
 * {@link GradientAccumulator} the step- and chunk-level ones.
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
    /** Payload encoding unknown or not supported yet. */
    BAD_ENCODING,
    /** Payload length not a whole number of elements. */
    BAD_LENGTH,
    /** Frame belongs to another training run. */
    WRONG_RUN,
    /** No sink registered for this (type, shard, tensor). */
    UNKNOWN_DESTINATION,
    /** Element offset plus element count falls outside the registered destination. */
    OUT_OF_BOUNDS,
    /** Sender id outside the accumulator's sender slots. */
    UNKNOWN_SENDER,
    /** Chunk does not start on a chunk boundary or has an unexpected length. */
    MISALIGNED,
    /** Frame for a step older than the one being accumulated. */
    STALE_STEP,
    /** Frame for a step newer than the one being accumulated (not begun yet). */
    EARLY_STEP,
    /** Same sender, step and chunk seen before: not added twice. */
    DUPLICATE
}
