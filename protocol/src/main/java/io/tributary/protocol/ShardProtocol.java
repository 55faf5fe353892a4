package io.tributary.protocol;

import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.CoordinatorProtocol.ShardRestored;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a parameter shard (a sharding entity on a {@code ps} node) is told: parameter requests,
 * the quorum, empty contributions, how to start, a rollback, state in chunks, a hand-over's
 * acknowledgement. {@link ShardReply} is what it answers a request with.
 *
 * <p>A step, under the {@code sync} policy: each trainer asks every shard for the parameters of
 * version {@code t} ({@link RequestParams}); the shard sends them over the data plane and answers
 * {@link TrainerProtocol.ParamsSent}; the trainer computes its gradient and sends each shard its slice over the
 * data plane, tagged with step {@code t}; a shard closes step {@code t} when its quorum has
 * contributed (or all but {@code backup}, or at the deadline), applies the optimizer, becomes
 * version {@code t + 1} and tells the coordinator ({@link CoordinatorProtocol.ShardCommitted}).
 */
public final class ShardProtocol {

    private ShardProtocol() {
    }

    /** What a parameter shard receives. */
    public interface ShardCommand {
    }

    /** What a shard answers a {@link RequestParams} with. */
    public interface ShardReply {
    }

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
    public record EmptyContribution(int trainerId, long step, String signer)
            implements ShardCommand, WireMessage, SignerAttributed {
        /** A contribution as its trainer sends it (the signer is set where it arrives). */
        public EmptyContribution(int trainerId, long step) {
            this(trainerId, step, "");
        }

        @Override
        public EmptyContribution withSigner(String by) {
            return new EmptyContribution(trainerId, step, by);
        }
    }

    /**
     * The trainers whose gradients close a step from {@code generation} on, each with the data-plane
     * endpoint its node registered from (a shard's node takes gradient frames for an id only from the node
     * at that endpoint), and how many of them a step may go without ({@code backup}).
     */
    public record SetQuorum(long runId, long generation, Map<Integer, String> endpoints, int backup,
                            ActorRef<CoordinatorCommand> coordinator) implements ShardCommand, WireMessage {
        public SetQuorum {
            endpoints = Map.copyOf(endpoints);
            Objects.requireNonNull(coordinator, "coordinator");
        }

        /** The trainer ids of the quorum. */
        public Set<Integer> trainers() {
            return endpoints.keySet();
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
     * the coordinator acknowledges ({@link HandOverAck}), or a replica's owner, which the replica
     * answers ({@link ReplicaAck}); null for the other kinds.
     */
    public record StateChunk(long runId, int shard, StateKind kind, long transfer, String owner, long version,
                             long optimizerSteps, int parts, int part, int offset, float[] values, long partDigest,
                             ActorRef<ShardCommand> replyTo) implements CoordinatorCommand, ShardCommand, WireMessage {
        public StateChunk {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(values, "values");
            if (kind.answered() != (replyTo != null)) {
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

    /**
     * To a ps node's replica store, from a shard's owner: the commit of the step whose gradient follows in
     * {@link StateKind#REPLICA_STEP} chunks (or whose whole state follows in {@link StateKind#REPLICA_STATE}
     * chunks). The owner tells the coordinator and the trainers of the new version only once every replica
     * has answered, so a replica is never behind what anyone has seen; the replica keeps the commit so that
     * a promotion can report it when the owner died before it could (the store then sends it on to the
     * coordinator, which takes it only when it never heard of that version).
     */
    public record ReplicaCommit(long runId, CoordinatorProtocol.ShardCommitted commit)
            implements ShardCommand, CoordinatorCommand, WireMessage {
        public ReplicaCommit {
            Objects.requireNonNull(commit, "commit");
        }
    }

    /**
     * A replica's answer to its owner {@code owner}: it now holds shard {@code shard} at {@code version}
     * ({@code needsState} false), or it does not hold the version the step starts from and needs the whole
     * state ({@code needsState} true, {@code version} what it holds, -1 for nothing).
     */
    public record ReplicaAck(long runId, int shard, String owner, long version, boolean needsState,
                             ActorRef<ShardCommand> replica) implements ShardCommand, WireMessage {
        public ReplicaAck {
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(replica, "replica");
        }
    }

    /**
     * From the coordinator to every replica store: the ps node whose shard incarnations' names begin with
     * {@code ownerPrefix} (its data-plane endpoint and a slash) was removed; each store that keeps a replica
     * of one of {@code shards} from such an owner sends it to the coordinator as that owner's hand-over
     * ({@link StateKind#HAND_OVER}), after the commit it holds ({@link ReplicaCommit}).
     */
    public record PromoteReplicas(long runId, String ownerPrefix, Set<Integer> shards,
                                  ActorRef<CoordinatorCommand> coordinator) implements ShardCommand, WireMessage {
        public PromoteReplicas {
            Objects.requireNonNull(ownerPrefix, "ownerPrefix");
            shards = Set.copyOf(shards);
            Objects.requireNonNull(coordinator, "coordinator");
        }
    }

    /**
     * A coordinator that took the run over asks each shard to send again every commit it still holds
     * from version {@code fromVersion} on (a shard keeps its last {@code ParameterShard.COMMIT_LOG}):
     * those its predecessor received after it last stored the run's state, or never received, and the
     * shard's answer goes to {@code coordinator}.
     */
    public record ResendCommits(long runId, long fromVersion, ActorRef<CoordinatorCommand> coordinator)
            implements ShardCommand, WireMessage {
        public ResendCommits {
            Objects.requireNonNull(coordinator, "coordinator");
        }
    }
}
