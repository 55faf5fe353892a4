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
    OPTIMIZER_CUT,
    /**
     * A committed step, from a shard's owner to a ps node that keeps a replica of it: one part, the
     * aggregated gradient the owner applied to go from {@code version} to {@code version + 1}, which
     * the replica applies with the same optimizer ({@code replyTo}: the owner, which the replica
     * answers with {@link ShardProtocol.ReplicaAck}).
     */
    REPLICA_STEP,
    /**
     * A shard's whole state at {@code version} (part 0 the parameters, then each optimizer state
     * vector), from its owner to a replica that does not hold the version before ({@code replyTo}:
     * the owner).
     */
    REPLICA_STATE;

    /** Whether a chunk of this kind names the shard incarnation that answers it ({@code replyTo}). */
    public boolean answered() {
        return this == HAND_OVER || this == REPLICA_STEP || this == REPLICA_STATE;
    }
}
