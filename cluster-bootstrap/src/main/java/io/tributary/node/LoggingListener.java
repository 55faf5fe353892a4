package io.tributary.node;

import io.tributary.coordinator.RunResult;
import io.tributary.coordinator.RunListener;
import java.io.PrintStream;
import java.util.Locale;

/** Progress of a run hosted by a plain {@code tributary node}: one line now and then on its output. */
final class LoggingListener implements RunListener {

    private final PrintStream out;
    private long lastPrint;
    private int stepsPerEpoch;

    LoggingListener(PrintStream out) {
        this.out = out;
    }

    @Override
    public void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch, String policy) {
        this.stepsPerEpoch = stepsPerEpoch;
        out.printf(Locale.ROOT, "run started: %d trainers x batch %d, %d shards, %s policy, %d steps%n", trainers,
                localBatch, shards, policy, totalSteps);
    }

    @Override
    public void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers, double loss,
                         double lastAccuracy) {
        long now = System.nanoTime();
        if (now - lastPrint > 5_000_000_000L) {
            lastPrint = now;
            out.printf(Locale.ROOT, "step %d/%d  %,.0f samples/s  trainers %d  loss %.4f%n", step, totalSteps,
                    samplesPerSecond, liveTrainers, loss);
        }
    }

    @Override
    public void evaluated(int epoch, long step, double accuracy) {
        out.printf(Locale.ROOT, "%s: test accuracy %.2f%%%n", stepsPerEpoch > 0 && step % stepsPerEpoch == 0
                    ? "epoch " + epoch + " (step " + step + ")" : "step " + step, accuracy * 100);
    }

    @Override
    public void resumed(long step, long totalSteps) {
        out.printf(Locale.ROOT, "resuming at step %d of %d from the checkpoint%n", step, totalSteps);
    }

    @Override
    public void psFailover(String node, long step, long toStep) {
        out.printf(Locale.ROOT, "parameter-server node %s left at step %d: every shard rolls back to step %d%n", node, step,
                toStep);
    }

    @Override
    public void replicasPromoted(String node, long step, double seconds) {
        out.printf(Locale.ROOT, "parameter-server node %s left at step %d: the replicas of its shards took over (%.2f s)%n",
                node, step, seconds);
    }

    @Override
    public void failed(String reason) {
        out.println("run failed: " + reason);
    }

    @Override
    public void trainerQuarantined(int trainer, String node, String reason) {
        out.printf(Locale.ROOT, "trainer %d (%s) QUARANTINED: %s; its node is downed%n", trainer, node, reason);
    }

    @Override
    public void finished(RunResult r) {
        out.printf(Locale.ROOT, "result: final test accuracy %.2f%% after %d steps, %,.0f samples/s%n",
                r.accuracy() * 100, r.steps(), r.samplesPerSecond());
    }
}
