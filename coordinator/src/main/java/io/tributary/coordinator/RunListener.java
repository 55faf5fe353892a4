package io.tributary.coordinator;

import java.util.Map;

/** What the run shows its user; called on the coordinator's thread. */
public interface RunListener {
    void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch, String policy);

    void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers, double loss,
                  double lastAccuracy);

    void evaluated(int epoch, long step, double accuracy);

    /**
     * The mean test loss at {@code step}, for models whose quality is their loss (the GPT, in nats
     * per character; its accuracy is the share of next characters predicted); called before
     * {@link #evaluated} of that step.
     */
    default void validationLoss(long step, double loss) {
    }

    void finished(RunResult result);

    /**
     * A new work plan from step {@code from} on: {@code batches} is each trainer's batch in that
     * step; {@code why} says what changed (a trainer gone or joined, speeds, a new epoch).
     */
    default void workPlanned(int plan, long from, String why, Map<Integer, Integer> batches) {
    }

    /** A trainer joined after the start ({@code replaced}: -1); its work plans come as {@link #workPlanned}. */
    default void trainerJoined(int trainer, int replaced, long step) {
    }

    /** The run goes on from the checkpoint of {@code step} ({@code tributary.cluster.resume-from}). */
    default void resumed(long step, long totalSteps) {
    }

    /** A ps node left: the shards go back from {@code step} to the checkpoint of {@code toStep}. */
    default void psFailover(String node, long step, long toStep) {
    }

    /**
     * A ps node left at {@code step} and the replicas of its shards took over, {@code seconds} after its
     * removal: no rollback, no step done again.
     */
    default void replicasPromoted(String node, long step, double seconds) {
    }

    /**
     * Shard {@code shard} moved from incarnation {@code from} to {@code to} at {@code version} with its
     * state; {@code seconds} from the old owner's first piece of state to the new owner's answer.
     */
    default void shardMoved(int shard, String from, String to, long version, double seconds) {
    }

    /** The run cannot go on; {@code reason} says why and what to change. */
    default void failed(String reason) {
    }

    /** A trainer was quarantined (its contributions kept being rejected); {@code reason} says how. */
    default void trainerQuarantined(int trainer, String node, String reason) {
    }

    /**
     * The coordinator singleton moved to {@code node} and took the run over at step {@code step}: the
     * state its predecessor last stored was of step {@code storedStep}, and the shards sent again the
     * commits after it; {@code seconds} from this incarnation's start to the run's state being whole again.
     */
    default void coordinatorTookOver(String node, long step, long storedStep, double seconds) {
    }
}
