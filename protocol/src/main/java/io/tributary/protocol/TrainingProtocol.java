package io.tributary.protocol;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The messages of a training run between the coordinator (a cluster singleton), the trainers and
 * the parameter shards (sharding entities). Each actor's protocol is an interface here so that
 * its internal messages (timers, completions) can share it; the records that cross the network
 * also implement {@link WireMessage} and are registered in {@link ProtocolRegistry}.
 *
 * <p>A step, under the {@code sync} policy: each trainer asks every shard for the parameters of
 * version {@code t} ({@link RequestParams}); the shard sends them over the data plane and answers
 * {@link ParamsSent}; the trainer computes its gradient and sends each shard its slice over the
 * data plane, tagged with step {@code t}; a shard closes step {@code t} when its quorum has
 * contributed (or all but {@code backup}, or at the deadline), applies the optimizer, becomes
 * version {@code t + 1} and tells the coordinator ({@link ShardCommitted}).
 */
public final class TrainingProtocol {

    private TrainingProtocol() {
    }

    /** What the coordinator receives. */
    public interface CoordinatorCommand {
    }

    /** What a trainer receives. */
    public interface TrainerCommand {
    }

    /** What a parameter shard receives. */
    public interface ShardCommand {
    }

    /** What a shard answers a {@link RequestParams} with. */
    public interface ShardReply {
    }

    // ---- to the coordinator ----------------------------------------------------------------------

    /** A trainer node asks to take part; {@code dataEndpoint} is where its data plane receives. */
    public record RegisterTrainer(String nodeId, int protocolVersion, String backend, String dataEndpoint,
                                  ActorRef<TrainerCommand> trainer) implements CoordinatorCommand, WireMessage {
        public RegisterTrainer {
            Objects.requireNonNull(nodeId, "nodeId");
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(dataEndpoint, "dataEndpoint");
            Objects.requireNonNull(trainer, "trainer");
        }
    }

    /**
     * A trainer finished computing and pushing step {@code step}; under bounded staleness
     * {@code slowestSeen} is the slowest trainer's finished steps it knew when it started the step.
     * {@code checksums} holds, per shard, the CRC32 of the gradient bytes the trainer sent it.
     */
    public record StepDone(int trainerId, long step, float loss, int samples, long computeNanos, long pushNanos,
                           long slowestSeen, List<Long> checksums)
            implements CoordinatorCommand, WireMessage {
        public StepDone {
            checksums = List.copyOf(checksums);
        }
    }

    /**
     * A shard closed step {@code step} (sync: it is now at version {@code step + 1}) with the
     * gradients of {@code contributors} trainers, whose bytes as received had the CRC32s in
     * {@code checksums} (trainer id to CRC): the coordinator compares them with what was sent.
     * The trainers in {@code rejected} failed the shard's contribution check (non-finite, or over
     * the norm bound) and were left out of the update; when all were, the step closed without one.
     * Those in {@code outliers} were aggregated, but a robust rule had to clip or trim them (they lay
     * far from the aggregate, see {@code OutlierScreen}): they count against their trainer's reputation.
     * {@code version} is the shard's version after this update, its id (1, 2, 3, ... per shard), and
     * {@code owner} the shard incarnation that applied it: the coordinator audits both.
     */
    public record ShardCommitted(int shard, long step, int contributors, int quorum, boolean byDeadline,
                                 Set<Integer> rejected, Set<Integer> outliers, Map<Integer, Long> checksums, long version,
                                 String owner)
            implements CoordinatorCommand, WireMessage {
        public ShardCommitted {
            rejected = Set.copyOf(rejected);
            outliers = Set.copyOf(outliers);
            checksums = Map.copyOf(checksums);
            Objects.requireNonNull(owner, "owner");
        }
    }

    /** A shard finished the rollback {@code rollbackId}: it is at {@code version} with the checkpoint's parameters. */
    public record ShardRestored(int shard, long rollbackId, long version, String owner)
            implements CoordinatorCommand, WireMessage {
        public ShardRestored {
            Objects.requireNonNull(owner, "owner");
        }
    }

    // ---- to trainers --------------------------------------------------------------------------------

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
     * sequence; which samples this trainer computes come in {@link WorkPlan}s).
     */
    public record Assignment(long runId, int trainerId, int partitionCount, long startStep,
                             long totalSteps, int stepsPerEpoch, int localBatch, ConsistencyPolicy policy, int staleness,
                             Set<Integer> shards) implements TrainerCommand, WireMessage {
        public Assignment {
            Objects.requireNonNull(policy, "policy");
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

    // ---- to shards ------------------------------------------------------------------------------

    /**
     * Send the parameters of version {@code minVersion} or newer to {@code endpoint} once the shard
     * has them, then answer {@code replyTo}.
     */
    public record RequestParams(int requesterId, String endpoint, long minVersion, ActorRef<ShardReply> replyTo)
            implements ShardCommand, WireMessage {
        public RequestParams {
            Objects.requireNonNull(endpoint, "endpoint");
            Objects.requireNonNull(replyTo, "replyTo");
        }
    }

    /**
     * Trainer {@code trainerId} has no samples in step {@code step} (its {@link WorkPlan} slice is
     * empty): it counts as that step's contribution of a quorum member, with nothing to aggregate.
     */
    public record EmptyContribution(int trainerId, long step) implements ShardCommand, WireMessage {
    }

    /**
     * The trainers whose gradients close a step from {@code generation} on, and how many of them a
     * step may go without ({@code backup}).
     */
    public record SetQuorum(long runId, long generation, Set<Integer> trainers, int backup,
                            ActorRef<CoordinatorCommand> coordinator) implements ShardCommand, WireMessage {
        public SetQuorum {
            trainers = Set.copyOf(trainers);
            Objects.requireNonNull(coordinator, "coordinator");
        }
    }

    /**
     * Roll this shard back to the checkpoint of {@code version}: drop the step in hand and the waiting
     * requests, take the state from the {@link StateKind#ROLLBACK} {@link StateChunk}s of the same
     * {@code rollbackId} that follow (the parameters, {@code length} floats, then {@code optimizerParts}
     * optimizer state vectors of that version when there are any; else the optimizer starts
     * again from zero); then answer {@link ShardRestored} to {@code coordinator}.
     */
    public record RollbackShard(long runId, long rollbackId, long version, int length, int optimizerParts,
                                ActorRef<CoordinatorCommand> coordinator) implements ShardCommand, WireMessage {
        public RollbackShard {
            Objects.requireNonNull(coordinator, "coordinator");
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

    // ---- shard start and hand-over (rebalancing onto another ps node) -----------------------------

    /**
     * A shard incarnation {@code owner} started on a ps node and waits for the coordinator's word:
     * {@link StartShard} (the run has not touched this shard yet), the state ({@link StateChunk}s) its
     * previous owner handed over, or a rollback. Sent again every 2 s until one comes.
     */
    public record ShardStarted(long runId, int shard, String owner, ActorRef<ShardCommand> shardRef)
            implements CoordinatorCommand, WireMessage {
        public ShardStarted {
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(shardRef, "shardRef");
        }
    }

    /** The shard starts from its initial state (version and parameters it was created with). */
    public record StartShard(long runId, int shard) implements ShardCommand, WireMessage {
    }

    /**
     * One chunk of a shard's state on its way ({@link ChunkedState} cuts and reassembles it): parts
     * of {@code parts} float vectors of the shard's length, floats {@code [offset, offset +
     * values.length)} of part {@code part}; {@code partDigest} is {@link ChunkedState#digest} of the
     * whole part, checked once the part is whole. What the parts are and who sends it to whom, by
     * {@code kind}: see {@link StateKind}. {@code transfer} is the rollback's id for
     * {@link StateKind#ROLLBACK} (0 otherwise); {@code owner} the incarnation whose state it is
     * ({@code "coordinator"} for a rollback); {@code replyTo} the old owner of a hand-over, which
     * the coordinator acknowledges ({@link HandOverAck}), and null for the other kinds.
     */
    public record StateChunk(long runId, int shard, StateKind kind, long transfer, String owner, long version,
                             long optimizerSteps, int parts, int part, int offset, float[] values, long partDigest,
                             ActorRef<ShardCommand> replyTo) implements CoordinatorCommand, ShardCommand, WireMessage {
        public StateChunk {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(values, "values");
            if ((kind == StateKind.HAND_OVER) != (replyTo != null)) {
                throw new IllegalArgumentException("a " + kind + " chunk " + (replyTo == null ? "needs" : "has no")
                        + " replyTo");
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof StateChunk c && c.runId == runId && c.shard == shard && c.kind == kind
                    && c.transfer == transfer && c.owner.equals(owner) && c.version == version
                    && c.optimizerSteps == optimizerSteps && c.parts == parts && c.part == part && c.offset == offset
                    && java.util.Arrays.equals(c.values, values) && c.partDigest == partDigest
                    && Objects.equals(c.replyTo, replyTo);
        }

        @Override
        public int hashCode() {
            return Objects.hash(runId, shard, kind, transfer, owner, version, part, offset,
                    java.util.Arrays.hashCode(values));
        }

        @Override
        public String toString() {
            return "StateChunk[" + kind + " of shard " + shard + " from " + owner + ", version " + version + ", part "
                    + part + "/" + parts + ", offset " + offset + ", " + values.length + " floats]";
        }
    }

    /** The coordinator holds the whole state {@code owner} handed over: that incarnation may stop. */
    public record HandOverAck(int shard, String owner) implements ShardCommand, WireMessage {
        public HandOverAck {
            Objects.requireNonNull(owner, "owner");
        }
    }

    /** Incarnation {@code owner} took over shard {@code shard} at {@code version} with the state of {@code previousOwner}. */
    public record HandOverDone(int shard, long version, String owner, String previousOwner)
            implements CoordinatorCommand, WireMessage {
        public HandOverDone {
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(previousOwner, "previousOwner");
        }
    }

    /**
     * Sent by a member to a node it is about to down because the node claims a role its TLS
     * certificate does not grant: {@code by} is the sender's address, {@code reason} the check that
     * failed. The refused node logs it, so that both sides say why.
     */
    public record AdmissionDenied(String by, String reason) implements WireMessage {
        public AdmissionDenied {
            Objects.requireNonNull(by, "by");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
