package io.tributary.protocol;

import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StartShard;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What the run's coordinator (a cluster singleton) is told: trainers register and report steps,
 * shards report commits, restores, starts and hand-overs. {@link CoordinatorCommand} is its actor's
 * protocol, so that its internal messages (timers, cluster events) share it; the records that cross
 * the network also implement {@link WireMessage} and are registered in {@link ProtocolRegistry}.
 */
public final class CoordinatorProtocol {

    private CoordinatorProtocol() {
    }

    /** What the coordinator receives. */
    public interface CoordinatorCommand {
    }

    /**
     * A trainer node asks to take part; {@code nodeId} is its node's cluster address and {@code dataEndpoint}
     * where its data plane receives. {@code signature} is its node's TLS key's over {@link #signedFields}
     * ({@link RegistrationSigner}; empty with TLS off): the coordinator checks it against the certificate
     * that address presented, so one node cannot register in another's name.
     */
    public record RegisterTrainer(String nodeId, int protocolVersion, String backend, String dataEndpoint,
                                  ActorRef<TrainerCommand> trainer, String signature)
            implements CoordinatorCommand, WireMessage {
        public RegisterTrainer {
            Objects.requireNonNull(nodeId, "nodeId");
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(dataEndpoint, "dataEndpoint");
            Objects.requireNonNull(trainer, "trainer");
            Objects.requireNonNull(signature, "signature");
        }

        /**
         * What a registration's signature covers: the run, the node, its data-plane endpoint and the path of
         * its trainer actor within the node ({@code /system/trainer}; the node's address is {@code nodeId}).
         */
        public static String[] signedFields(long runId, String nodeId, String dataEndpoint, String trainerPath) {
            return new String[] {Long.toString(runId), nodeId, dataEndpoint, trainerPath};
        }

        /** {@link #signedFields(long, String, String, String)} of this registration, as its receiver sees it. */
        public String[] signedFields(long runId) {
            return signedFields(runId, nodeId, dataEndpoint, trainer.path().toStringWithoutAddress());
        }
    }

    /**
     * A trainer finished computing and pushing step {@code step}; under bounded staleness
     * {@code slowestSeen} is the slowest trainer's finished steps it knew when it started the step.
     * {@code checksums} holds, per shard, the CRC32 of the gradient bytes the trainer sent it;
     * {@code bytesSent} the data-plane bytes the trainer's node has sent since it started (for the run's
     * scalars: the trainer's word, not a verified fact).
     */
    public record StepDone(int trainerId, long step, float loss, int samples, long computeNanos, long pushNanos,
                           long slowestSeen, List<Long> checksums, long bytesSent, String signer)
            implements CoordinatorCommand, WireMessage, SignerAttributed {
        public StepDone {
            checksums = List.copyOf(checksums);
        }

        /** A report as its trainer sends it (the signer is set where it arrives). */
        public StepDone(int trainerId, long step, float loss, int samples, long computeNanos, long pushNanos,
                        long slowestSeen, List<Long> checksums, long bytesSent) {
            this(trainerId, step, loss, samples, computeNanos, pushNanos, slowestSeen, checksums, bytesSent, "");
        }

        @Override
        public StepDone withSigner(String by) {
            return new StepDone(trainerId, step, loss, samples, computeNanos, pushNanos, slowestSeen, checksums,
                    bytesSent, by);
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

    /** Incarnation {@code owner} took over shard {@code shard} at {@code version} with the state of {@code previousOwner}. */
    public record HandOverDone(int shard, long version, String owner, String previousOwner)
            implements CoordinatorCommand, WireMessage {
        public HandOverDone {
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(previousOwner, "previousOwner");
        }
    }

    /**
     * Node {@code reporter} caught the member at address {@code member} lying about who it is on the
     * data plane ({@code offence}: authentic frames for another trainer's id, or of a kind its role may not
     * send). The reporter has downed it; the coordinator quarantines its trainer, if it has one, so that
     * the credits say why and it may not register again in this run — but only on a report its
     * reporter signed with its TLS key ({@code signature}, empty with TLS off) and whose reporter's
     * certificate makes it a ps node or the coordinator.
     */
    public record MemberOffence(String member, String reporter, String offence, String signature)
            implements CoordinatorCommand, WireMessage {
        public MemberOffence {
            Objects.requireNonNull(member, "member");
            Objects.requireNonNull(reporter, "reporter");
            Objects.requireNonNull(offence, "offence");
            Objects.requireNonNull(signature, "signature (empty with TLS off)");
        }

        /** What the reporter's signature covers, in order. */
        public String[] signedFields(long runId) {
            return new String[] {Long.toString(runId), member, reporter, offence};
        }
    }

    /**
     * The coordinator's state at step {@code step}, as it stores it for a successor (in Distributed Data,
     * written to a majority of the coordinator nodes): {@code state} is its parts as {@link StateKryo}
     * bytes. A wire message so that it is signed by the node that last wrote or passed it on, and taken
     * only from a node whose certificate makes it a coordinator.
     */
    public record StoredState(long runId, long step, long writtenAtMillis, byte[] state) implements WireMessage {
        public StoredState {
            java.util.Objects.requireNonNull(state, "state");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof StoredState s && s.runId == runId && s.step == step
                    && s.writtenAtMillis == writtenAtMillis && java.util.Arrays.equals(s.state, state);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(runId, step, writtenAtMillis, java.util.Arrays.hashCode(state));
        }

        @Override
        public String toString() {
            return "StoredState[run " + runId + ", step " + step + ", " + state.length + " bytes]";
        }
    }

    /**
     * A shard's answer to {@link ShardProtocol.ResendCommits}: it sent again every commit it holds of the
     * versions asked for, up to {@code version} (its own), so the coordinator that took the run over need
     * not wait longer for this shard.
     */
    public record CommitsResent(int shard, long version, String owner) implements CoordinatorCommand, WireMessage {
        public CommitsResent {
            java.util.Objects.requireNonNull(owner, "owner");
        }
    }
}
