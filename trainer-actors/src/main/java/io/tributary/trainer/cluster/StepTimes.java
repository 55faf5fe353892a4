package io.tributary.trainer.cluster;

import io.tributary.wire.Encoding;

/**
 * A trainer's pushed steps in numbers: each one into the trainer metrics, and the time spent
 * waiting for parameters, computing and pushing summed over 100 steps for the log.
 */
final class StepTimes {

    /** Steps per line in the log (rounds of local SGD: {@link #LOG_EVERY_ROUNDS}). */
    static final int LOG_EVERY = 100;
    static final int LOG_EVERY_ROUNDS = 3;

    private final TrainerMetrics metrics;
    private long waitNanos;
    private long computeNanos;
    private long pushNanos;
    private int logEvery = LOG_EVERY;
    private Encoding encoding = Encoding.FLOAT32;

    StepTimes(TrainerMetrics metrics) {
        this.metrics = metrics;
    }

    /** How gradients travel (for the bytes-sent metric). */
    void encoding(Encoding gradientEncoding) {
        this.encoding = gradientEncoding;
    }

    /** Logs every {@code steps} steps (local SGD's rounds are few and long). */
    void logEvery(int steps) {
        this.logEvery = Math.max(1, steps);
    }

    /**
     * Records a step whose gradient went out.
     *
     * @param staleness how far the step ran ahead of the slowest trainer (0 under sync)
     * @return true after every {@code logEvery}th step: {@link #perStep()} has the means to log
     */
    boolean pushed(GradientPush.Push p, long pushNanos, long staleness) {
        metrics.trainerSteps.inc();
        metrics.trainerSamples.inc(p.samples());
        metrics.trainerWaitSeconds.observe(p.waitNanos() / 1e9);
        metrics.trainerComputeSeconds.observe(p.computeNanos() / 1e9);
        metrics.trainerPushSeconds.observe(pushNanos / 1e9);
        metrics.trainerStaleness.set(staleness);
        metrics.bytesSent.labelValues("gradient").inc(encoding.payloadBytes(p.gradient().length));
        this.waitNanos += p.waitNanos();
        this.computeNanos += p.computeNanos();
        this.pushNanos += pushNanos;
        return (p.step() + 1) % logEvery == 0;
    }

    /** The mean times per step since the last call, for the log; starts the next sums. */
    String perStep() {
        double per = 1e6 * logEvery;
        String line = String.format("%.1f", waitNanos / per) + " ms waiting for parameters, "
                + String.format("%.1f", computeNanos / per) + " ms computing, "
                + String.format("%.1f", pushNanos / per) + " ms pushing gradients";
        waitNanos = 0;
        computeNanos = 0;
        pushNanos = 0;
        return line;
    }
}
