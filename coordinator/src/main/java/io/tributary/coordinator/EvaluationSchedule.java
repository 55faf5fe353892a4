package io.tributary.coordinator;

import java.util.ArrayDeque;

/**
 * When the coordinator evaluates the model, and the evaluations due but not done yet: after each
 * epoch, at the run's last step, and every {@code eval-every-steps} steps when that is set. One
 * evaluation is under way at a time (its parameters are pulled from every shard); the others wait
 * in step order.
 */
final class EvaluationSchedule {

    /** An evaluation due at {@code step}, of parameters of at least {@code minVersion} (sync: the step itself). */
    record Due(long step, long minVersion) {
    }

    private final int stepsPerEpoch;
    private final long totalSteps;
    private final int everySteps;
    private final ArrayDeque<Due> queue = new ArrayDeque<>();
    private Due inFlight;

    /**
     * @param everySteps 0 for after each epoch only
     */
    EvaluationSchedule(int stepsPerEpoch, long totalSteps, int everySteps) {
        if (stepsPerEpoch < 1 || totalSteps < 1 || everySteps < 0) {
            throw new IllegalArgumentException("an evaluation schedule needs steps per epoch >= 1, total steps >= 1 and "
                    + "tributary.cluster.eval-every-steps >= 0, got " + stepsPerEpoch + ", " + totalSteps + ", " + everySteps);
        }
        this.stepsPerEpoch = stepsPerEpoch;
        this.totalSteps = totalSteps;
        this.everySteps = everySteps;
    }

    /** Whether the model is evaluated once step {@code step} is committed (after {@code step} steps). */
    boolean evaluatesAt(long step) {
        return step % stepsPerEpoch == 0 || step == totalSteps || everySteps > 0 && step % everySteps == 0;
    }

    /** The epoch an evaluation after {@code step} steps closes (1-based; a mid-epoch one counts to the epoch it is in). */
    int epochOf(long step) {
        return (int) Math.ceil((double) step / stepsPerEpoch);
    }

    void add(long step, long minVersion) {
        queue.add(new Due(step, minVersion));
    }

    /** The evaluation to start now, or null when one is under way or none is due. */
    Due startNext() {
        if (inFlight != null || queue.isEmpty()) {
            return null;
        }
        inFlight = queue.peek();
        return inFlight;
    }

    /** The evaluation under way, or null. */
    /** A coordinator took the run over: the evaluation in flight is asked for again (null if none). */
    Due restartInFlight() {
        return inFlight;
    }

    Due inFlight() {
        return inFlight;
    }

    /** The parameters came: the evaluation under way (or, if none, the first due) is done; null when none was due. */
    Due done() {
        Due d = queue.poll();
        if (d != null) {
            inFlight = null;
        }
        return d;
    }

    /** A rollback to {@code cutStep}: evaluations after it are void, and none is under way any more. */
    void rollback(long cutStep) {
        queue.removeIf(d -> d.step() > cutStep);
        inFlight = null;
    }

    int pending() {
        return queue.size();
    }
}
