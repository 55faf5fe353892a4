package io.tributary.ps.shard;

import io.tributary.protocol.ShardProtocol.EmptyContribution;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.TrainerProtocol.ResendGradient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sync: a step closes when every quorum trainer (or all but {@code backup}) contributed, or at its
 * deadline; the contributions are aggregated by the rule ({@link StepAggregation}), then applied.
 */
final class SyncSteps implements Steps {

    private final Host host;
    private final Tools tools;

    SyncSteps(Host host, Tools tools) {
        this.host = host;
        this.tools = tools;
    }

    @Override
    public long acceptFrom() {
        return host.version();
    }

    @Override
    public void contribution(ShardSignals.ContributionComplete c) {
        if (c.step() != host.version()) {
            tools.slots().release(c.trainer());
            return;
        }
        opened();
        tools.step().slotReady(c.trainer());
        maybeClose(false);
    }

    @Override
    public void empty(EmptyContribution e) {
        if (e.step() != host.version() || tools.step().contributed(e.trainerId())) {
            return;
        }
        opened();
        tools.step().empty(e.trainerId());
        maybeClose(false);
    }

    private void opened() {
        if (!tools.step().open()) {
            tools.timers().startSingleTimer("deadline", new ShardSignals.DeadlineReached(host.version()), tools.settings().deadline());
        }
    }

    @Override
    public void deadline(ShardSignals.DeadlineReached d) {
        if (d.step() == host.version() && tools.step().open()) {
            tools.log().warn("shard {}: step {} closes at its deadline ({}) with {} of {} trainers", tools.shard(),
                    host.version(), tools.settings().deadline(), tools.step().contributorCount(), tools.step().quorum().size());
            maybeClose(true);
        }
    }

    @Override
    public void quorumChanged() {
        maybeClose(false);
        if (!host.waiting().isEmpty() && !tools.timers().isTimerActive("resend")) {
            tools.timers().startSingleTimer("resend", new ShardSignals.ResendCheck(host.version()), tools.settings().resendAfter());
        }
    }

    private void maybeClose(boolean deadlinePassed) {
        if (!tools.step().open()) {
            return;
        }
        boolean enough = tools.step().enough();
        if (!enough && !deadlinePassed) {
            return;
        }
        long aggregationStart = System.nanoTime();
        // one vote per member of the quorum the step closes under: a trainer that left it (quarantined, gone)
        // after its gradient came is not aggregated; the coordinator hands its samples to the others
        List<Integer> ready = tools.step().readySlots();
        for (int i = ready.size() - 1; i >= 0; i--) {
            int t = ready.get(i);
            if (!tools.step().inQuorum(t)) {
                ready.remove(i);
                tools.slots().release(t);
                tools.log().info("shard {}: step {} leaves out trainer {}'s gradient: it left the quorum", tools.shard(),
                        host.version(), t);
            }
        }
        StepAggregation.Verdicts v = tools.aggregation().close(ready, host.version(),
                () -> {
                    host.applying(tools.aggregation().gradient());
                    tools.optimizer().apply(tools.params(), tools.aggregation().gradient());
                });
        tools.metrics().shardAggregationSeconds.observe((System.nanoTime() - aggregationStart) / 1e9);
        long closed = host.version();
        int count = tools.step().contributorCount(); // empty contributions (no samples in the step) included
        tools.slots().acceptFrom(host.version() + 1);
        tools.step().clear();
        tools.timers().cancel("deadline");
        tools.timers().cancel("resend");
        host.committed(closed, count, !enough, v.rejected(), v.outliers(), v.checksums());
    }

    @Override
    public void requestQueued(RequestParams r) {
        if (r.requesterId() < 0 || r.minVersion() != host.version() + 1 || tools.step().contributed(r.requesterId())) {
            return;
        }
        if (host.version() == host.takenOverAt() && tools.step().inQuorum(r.requesterId())) {
            // this step's gradients went to the node the shard left: nothing is on its way here
            r.replyTo().tell(new ResendGradient(tools.shard(), host.version(), tools.endpoint()));
            tools.metrics().gradientResends.inc();
        }
        if (!tools.timers().isTimerActive("resend")) {
            // usually the gradient is on its way (the request overtook it), or a resend was just asked for;
            // if it has not come by then (a trainer's full push stream drops a resend), ask for it again
            tools.timers().startSingleTimer("resend", new ShardSignals.ResendCheck(host.version()), tools.settings().resendAfter());
        }
    }

    /**
     * Trainers that wait for the version after {@code step} but whose gradient of it never came are
     * asked to send it again: it went to the node this shard left, or was lost on the way.
     */
    @Override
    public void resendCheck(ShardSignals.ResendCheck c) {
        if (c.step() != host.version()) {
            return;
        }
        List<Integer> asked = new ArrayList<>(2);
        for (RequestParams r : host.waiting()) {
            int t = r.requesterId();
            if (t >= 0 && r.minVersion() == host.version() + 1 && tools.step().inQuorum(t) && !tools.step().contributed(t)
                    && !asked.contains(t)) {
                r.replyTo().tell(new ResendGradient(tools.shard(), host.version(), tools.endpoint()));
                asked.add(t);
            }
        }
        if (!asked.isEmpty()) {
            tools.metrics().gradientResends.inc(asked.size());
            tools.log().info("shard {}: asked trainer(s) {} to send their gradient of step {} again, to {} ({})",
                    tools.shard(), asked, host.version(), tools.endpoint(), host.version() == host.takenOverAt()
                            ? "it went to the node this shard moved from"
                            : "not here " + tools.settings().resendAfter().toMillis() + " ms after they asked for the next parameters");
            tools.timers().startSingleTimer("resend", new ShardSignals.ResendCheck(host.version()), tools.settings().resendAfter());
        }
    }

    @Override
    public void parametersSent(RequestParams r) {
        if (r.requesterId() < 0 && host.coordinator() != null) {
            // an evaluation: the optimizer state of this version goes with it, for the coordinator's consistent cut
            for (StateChunk piece : tools.transfer().optimizerPieces(host.version())) {
                host.coordinator().tell(piece);
            }
        }
    }

    @Override
    public String aggregationName() {
        return tools.aggregation().ruleName();
    }
}
