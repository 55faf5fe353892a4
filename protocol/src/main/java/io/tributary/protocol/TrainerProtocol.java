package io.tributary.protocol;

import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.ShardProtocol.ShardReply;
import java.util.Objects;
import java.util.Set;

/**
 * What a trainer is told: its assignment, work-plan leases, clock floors, rewinds, the end of the
 * run, a refusal; and what shards answer its parameter requests with.
 */
public final class TrainerProtocol {

    private TrainerProtocol() {
    }

    /** What a trainer receives. */
    public interface TrainerCommand {
    }

    /**
     * The shards were rolled back to the checkpoint of {@code step}: drop the work in hand and go
     * on from that step (the trainer restarts and registers again).
     */
    public record Rewind(long step, String reason) implements TrainerCommand, WireMessage {
        public Rewind {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * The coordinator admits a trainer: its id in frames, where the run stands and how it proceeds
     * ({@code partitionCount}: the trainers the run started with, which lay out the epoch's sample
     * sequence; which samples this trainer computes come in {@link WorkPlan}s). {@code localBatch} is
     * this trainer's samples per step when the plan is even; under local SGD a step is a round of
     * {@code innerSteps} inner steps, each on {@code localBatch / innerSteps} of them.
     */
    public record Assignment(long runId, int trainerId, int partitionCount, long startStep,
                             long totalSteps, int stepsPerEpoch, int localBatch, int innerSteps, ConsistencyPolicy policy,
                             int staleness, Set<Integer> shards) implements TrainerCommand, WireMessage {
        public Assignment {
            Objects.requireNonNull(policy, "policy");
            if (innerSteps < 1) {
                throw new IllegalArgumentException("inner steps " + innerSteps + " < 1");
            }
            shards = Set.copyOf(shards);
        }
    }

    /**
     * The trainers may compute steps below {@code until} under the {@link WorkPlan}s they have
     * (the coordinator extends the lease as the run goes on; a new plan starts where it ends).
     */
    public record LeaseExtended(long runId, long until) implements TrainerCommand, WireMessage {
    }

    /** The coordinator refuses a trainer; {@code reason} says why and what to change. */
    public record Rejected(String reason) implements TrainerCommand, WireMessage {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** Bounded staleness: the slowest live trainer has finished step {@code slowestStep}. */
    public record ClockFloor(long slowestStep) implements TrainerCommand, WireMessage {
    }

    /** The run is over for this trainer. */
    public record Finish(String reason) implements TrainerCommand, WireMessage {
        public Finish {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * A shard sent its parameters of {@code version} over the data plane; {@code shardEndpoint} is
     * where its node receives gradients.
     */
    public record ParamsSent(int shard, long version, String shardEndpoint)
            implements TrainerCommand, CoordinatorCommand, ShardReply, WireMessage {
        public ParamsSent {
            Objects.requireNonNull(shardEndpoint, "shardEndpoint");
        }
    }

    /**
     * A sync trainer asked shard {@code shard} for the parameters after step {@code step}, but the
     * shard has no gradient of that step from it (its frames went to the node the shard left, or were
     * lost): send the shard's slice of that step's gradient again, to {@code shardEndpoint}.
     */
    public record ResendGradient(int shard, long step, String shardEndpoint)
            implements TrainerCommand, CoordinatorCommand, ShardReply, WireMessage {
        public ResendGradient {
            Objects.requireNonNull(shardEndpoint, "shardEndpoint");
        }
    }

    /**
     * Shard {@code shard} moved to another ps node with its state: a trainer waiting for its
     * parameters asks it again (sharding may drop messages to a shard while it moves).
     */
    public record ShardMoved(int shard, long version) implements TrainerCommand, WireMessage {
    }
}
