package io.tributary.coordinator;

import java.util.TreeMap;

/**
 * What the coordinator stores for a successor ({@link CoordinatorState}): its parts that hold the run's
 * state (who trains, what each was given, what was committed and audited, credits) and its counters.
 * Not stored, and rebuilt by the successor: the consistent cut (parameters: the next evaluation takes one),
 * hand-overs and promotions in flight (a shard sends its state again until answered), the quorum's
 * generation (a new one), the evaluator's model replica. Written and read field by field
 * ({@link io.tributary.protocol.StateKryo}): a plain holder.
 */
final class StoredRun {
    long runId;
    Roster roster;
    CreditLedger ledger;
    UpdateAudit audit;
    GradientChecksums checksums;
    TreeMap<Long, Integer> commits;
    WorkPlanner planner;
    long lastAdaptStep;
    long lastFloor;
    EvaluationSchedule evaluations;
    boolean started;
    boolean finished;
    int partitionCount;
    int localBatch;
    int stepsPerEpoch;
    long totalSteps;
    long committedSteps;
    long contributions;
    long samples;
    double loss;
    /** Trainer id and bytes its node reported sending, in pairs (Agrona's maps keep their tables transient). */
    long[] trainerBytes;
    long trainerBytesTotal;
    double lastAccuracy;
    int maxStaleness;
    long closedByDeadline;
    long closedShort;
    /** Nanoseconds the run had been going (since its start) when stored. */
    long elapsedNanos;
    /** Nanoseconds from the start to the last step's commit, or -1 before it. */
    long trainedNanos;
    /** How many coordinators took this run over before (the one storing included). */
    int takeovers;
}
