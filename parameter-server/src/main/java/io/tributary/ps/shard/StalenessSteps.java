package io.tributary.ps.shard;

import io.tributary.protocol.ShardProtocol.EmptyContribution;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.TrainerProtocol.ResendGradient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bounded staleness: each contribution is applied as it comes; its staleness is bounded by the
 * trainers' clocks. Robust rules need several contributions of one step, so only the check applies.
 * A rejected or empty contribution still advances the version (parameters unchanged): its trainer
 * waits for a newer one.
 */
final class StalenessSteps implements Steps {

    private final Host host;
    private final Tools tools;

    StalenessSteps(Host host, Tools tools) {
        this.host = host;
        this.tools = tools;
    }

    @Override
    public long acceptFrom() {
        return Long.MIN_VALUE;
    }

    @Override
    public void contribution(ShardSignals.ContributionComplete c) {
        long crc = tools.aggregation().checksum(c.trainer());
        boolean ok = tools.aggregation().admit(c.trainer(), c.step());
        if (ok) {
            tools.optimizer().apply(tools.params(), tools.aggregation().slot(c.trainer()));
        }
        tools.slots().release(c.trainer());
        host.committed(c.step(), 1, false, ok ? Set.of() : Set.of(c.trainer()), Set.of(), Map.of(c.trainer(), crc));
    }

    @Override
    public void empty(EmptyContribution e) {
        host.committed(e.step(), 0, false, Set.of(), Set.of(), Map.of());
    }

    @Override
    public void deadline(ShardSignals.DeadlineReached d) {
    }

    @Override
    public void quorumChanged() {
    }

    @Override
    public void requestQueued(RequestParams r) {
    }

    @Override
    public void resendCheck(ShardSignals.ResendCheck c) {
    }

    @Override
    public void parametersSent(RequestParams r) {
    }

    @Override
    public String aggregationName() {
        return "per contribution";
    }
}
