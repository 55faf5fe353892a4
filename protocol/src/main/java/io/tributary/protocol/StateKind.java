package io.tributary.protocol;

/** What a {@link ShardProtocol.StateChunk} is part of, and so what its parts are and where it goes. */
public enum StateKind {
    /**
     * A shard moving to another ps node: its whole state (part 0 the parameters, then each optimizer
     * state vector) from the old owner to the coordinator, and from the coordinator to the new owner.
     */
    HAND_OVER,
    /**
     * A rollback to the last consistent cut, from the coordinator to a shard: part 0 the parameters,
     * then the cut's optimizer state vectors when the coordinator holds all of them.
     */
    ROLLBACK,
    /** A shard's optimizer state vectors at an evaluation's version, to the coordinator (for the cut). */
    OPTIMIZER_CUT
}
