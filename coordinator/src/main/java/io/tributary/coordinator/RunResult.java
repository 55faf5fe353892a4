package io.tributary.coordinator;

/**
 * The outcome of a run, with the consistency figures the tests check. {@code seconds} and
 * {@code samplesPerSecond} run from the start to the end of the final evaluation; {@code trainSeconds}
 * and {@code trainSamplesPerSecond} to the commit of the last step (training only, as a single
 * process's epoch time counts it).
 */
public record RunResult(double accuracy, long steps, int epochs, double samplesPerSecond, double seconds,
                        int maxStaleness, long stepsClosedByDeadline, long stepsClosedShort,
                        long checksumsCompared, long checksumMismatches, UpdateAudit.Summary updates,
                        WorkPlanner.Summary samplesAudit, double trainSeconds, double trainSamplesPerSecond) {
}
