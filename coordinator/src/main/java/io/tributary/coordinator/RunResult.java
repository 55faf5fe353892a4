package io.tributary.coordinator;

/** The outcome of a run, with the consistency figures the tests check. */
public record RunResult(double accuracy, long steps, int epochs, double samplesPerSecond, double seconds,
                        int maxStaleness, long stepsClosedByDeadline, long stepsClosedShort,
                        long checksumsCompared, long checksumMismatches, UpdateAudit.Summary updates,
                        WorkPlanner.Summary samplesAudit) {
}
