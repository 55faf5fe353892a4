package io.tributary.trainer.cluster;

import io.tributary.protocol.ConsistencyPolicy;

/**
 * A trainer's bookkeeping of the parameters it asks the shards for: which version to ask for at a
 * step (that step's under sync; anything newer than the last one under bounded staleness, and
 * nothing while the trainer is more than the bound ahead of the slowest), whether they are in, and
 * where each shard last answered from. Not thread-safe: it belongs to the {@link TrainerActor}
 * (the push stream only reads the endpoints).
 */
final class ParameterFetch {

    private final String[] shardEndpoints;
    private boolean boundedStaleness;
    private int staleness;
    private long totalSteps;
    /** The slowest trainer's step (bounded staleness); -1 until the coordinator says. */
    private long clockFloor = -1;
    private long lastVersion = -1;
    private long floorAtRequest;
    private long requestedAt;
    private boolean ready;
    private boolean awaiting;

    ParameterFetch(int shards) {
        this.shardEndpoints = new String[shards];
    }

    /** The run's policy and length, from the trainer's assignment. */
    void assign(ConsistencyPolicy policy, int staleness, long totalSteps) {
        this.boundedStaleness = policy == ConsistencyPolicy.BOUNDED_STALENESS;
        this.staleness = staleness;
        this.totalSteps = totalSteps;
    }

    boolean boundedStaleness() {
        return boundedStaleness;
    }

    /**
     * Starts waiting for the parameters to compute step {@code step} on, at {@code nowNanos}.
     *
     * @return the lowest version to ask the shards for, or -1 when there is nothing to ask now (the
     *     run is over, or this trainer is too far ahead of the slowest)
     */
    long begin(long step, long nowNanos) {
        if (step >= totalSteps) {
            return -1;
        }
        if (boundedStaleness && step - Math.max(clockFloor, 0) > staleness) {
            return -1; // wait for the slowest to catch up (clockFloor)
        }
        long minVersion = minVersion(step);
        ready = false;
        awaiting = true;
        floorAtRequest = Math.max(clockFloor, 0);
        requestedAt = nowNanos;
        return minVersion;
    }

    /** Sync: exactly the version of {@code step}; bounded staleness: anything newer than what was computed on. */
    long minVersion(long step) {
        return boundedStaleness ? lastVersion + 1 : step;
    }

    /** All shards' parameters of {@code version} are in. */
    void arrived(long version) {
        ready = true;
        lastVersion = version;
    }

    /** Shard {@code shard} answered from {@code endpoint}: its gradient slices go there. */
    void shardAt(int shard, String endpoint) {
        shardEndpoints[shard] = endpoint;
    }

    String shardEndpoint(int shard) {
        return shardEndpoints[shard];
    }

    int shards() {
        return shardEndpoints.length;
    }

    /** Waiting for parameters (asked, and the step they are for not started). */
    boolean awaiting() {
        return awaiting;
    }

    boolean ready() {
        return ready;
    }

    /** The parameters asked for are in and every shard's endpoint is known: the step may start. */
    boolean complete() {
        if (!awaiting || !ready) {
            return false;
        }
        for (String e : shardEndpoints) {
            if (e == null) {
                return false;
            }
        }
        return true;
    }

    /** The step the parameters were for starts: no longer waiting. */
    void taken() {
        awaiting = false;
    }

    /** The slowest trainer is at {@code slowestStep} (it only goes up). */
    void clockFloor(long slowestStep) {
        clockFloor = Math.max(clockFloor, slowestStep);
    }

    /** The slowest trainer's step when the parameters were asked for (0 before the coordinator said). */
    long floorAtRequest() {
        return floorAtRequest;
    }

    /** When the parameters were asked for ({@link System#nanoTime()}). */
    long requestedAt() {
        return requestedAt;
    }
}
