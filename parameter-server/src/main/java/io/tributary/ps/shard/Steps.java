package io.tributary.ps.shard;

import io.tributary.kernels.Tensor;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.ShardProtocol.EmptyContribution;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.dataplane.ContributionSlots;
import io.tributary.ps.optim.Optimizer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;

/**
 * What the consistency policy decides while a shard serves: when a step closes and what a
 * contribution does ({@link SyncSteps}, {@link StalenessSteps}: one class per
 * {@link io.tributary.protocol.ConsistencyPolicy}, chosen once when the shard starts).
 */
interface Steps {
    /** The first step whose frames the slots take when they open. */
    long acceptFrom();

    void contribution(ShardSignals.ContributionComplete c);

    /** A quorum member without samples in the step. */
    void empty(EmptyContribution e);

    void deadline(ShardSignals.DeadlineReached d);

    void quorumChanged();

    /** A request waits for a newer version than the shard has. */
    void requestQueued(RequestParams r);

    void resendCheck(ShardSignals.ResendCheck c);

    /** Parameters went to a requester. */
    void parametersSent(RequestParams r);

    String aggregationName();

    /** The shard's side, as its policy sees it. */
    interface Host {
        long version();

        /** The version this incarnation took over at (-1: it did not take over). */
        long takenOverAt();

        /** Parameter requests waiting for a newer version. */
        List<RequestParams> waiting();

        /** The coordinator, once known (null before). */
        ActorRef<CoordinatorCommand> coordinator();

        /** The aggregate of the step being closed, just before the optimizer applies it (sync policies). */
        void applying(Tensor aggregate);

        /** A step closed (or a contribution was applied): the version moves on and the coordinator hears of it. */
        void committed(long closed, int contributors, boolean byDeadline, Set<Integer> rejected, Set<Integer> outliers,
                       Map<Integer, Long> checksums);
    }

    /** What a policy works with: the shard's slots, step bookkeeping, aggregation, optimizer and timers. */
    record Tools(int shard, String endpoint, ShardSettings settings, ContributionSlots slots, StepQuorum step,
                 StepAggregation aggregation, Optimizer optimizer, Tensor params, ShardTransfer transfer,
                 TimerScheduler<ShardCommand> timers, ShardMetrics metrics, Logger log) {
    }
}
