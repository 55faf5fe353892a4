package io.tributary.coordinator;

import io.tributary.protocol.TrainerProtocol.Assignment;
import io.tributary.protocol.ShardProtocol.SetQuorum;

/**
 * What the coordinator's parts may read of the run and ask of it; the coordinator implements it,
 * so that each part (work dispatch, shard recovery) sees only this much of the others.
 */
interface RunView {

    /** The run has started (enough trainers registered). */
    boolean started();

    /** The run has ended (its last evaluation, or a failure). */
    boolean finished();

    /** Steps every shard has committed (sync), or the slowest trainer's (bounded staleness). */
    long committedSteps();

    /** The quorum as it stands, with its generation. */
    SetQuorum quorum();

    /** Tells every shard the quorum, with a new generation. */
    void sendQuorum();

    /** Enough trainers registered: the run starts. */
    void startRun();

    /** What trainer {@code m} is told when it starts, or restarts, at {@code startStep}. */
    Assignment assignment(Roster.Member m, long startStep);

    /** The run cannot go on: it ends, and {@code why} is what its user is told. */
    void fail(String why);

    /** Every shard stands at {@code cutStep} again after a rollback: progress goes back there. */
    void rolledBack(long cutStep);
}
