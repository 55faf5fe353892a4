package io.tributary.protocol;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Which certificate role may send which control message: the table docs/security.md shows. A
 * message whose signer holds none of its roles is dropped ({@link ControlSignatures}); a message
 * type missing here is dropped from everyone (fail closed), and a test checks that every message
 * {@link ProtocolRegistry} lists is here.
 *
 * <p>A {@code ps} node may also send the messages that reach shards from the coordinator or a
 * trainer: a shard region forwards a message it received for a shard that moved, and the copy it
 * sends on is signed by it. A ps node is thereby trusted with shard commands, as it is with the
 * parameters it serves; a trainer is trusted with nothing but its own gradient and reports.
 */
public final class ControlAuthorization {

    private static final Set<String> TRAINER = Set.of("trainer");
    private static final Set<String> PS = Set.of("ps");
    private static final Set<String> COORDINATOR = Set.of("coordinator");
    private static final Set<String> COORDINATOR_OR_PS = Set.of("coordinator", "ps");
    private static final Set<String> TRAINER_OR_PS = Set.of("trainer", "ps");
    private static final Set<String> ANY = Set.of("coordinator", "ps", "trainer");

    private static final Map<Class<?>, Set<String>> SENDERS = new HashMap<>();

    static {
        // to the coordinator
        SENDERS.put(CoordinatorProtocol.RegisterTrainer.class, TRAINER);
        SENDERS.put(CoordinatorProtocol.StepDone.class, TRAINER);
        SENDERS.put(CoordinatorProtocol.ShardCommitted.class, PS);
        SENDERS.put(CoordinatorProtocol.ShardRestored.class, PS);
        SENDERS.put(CoordinatorProtocol.ShardStarted.class, PS);
        SENDERS.put(CoordinatorProtocol.HandOverDone.class, PS);
        SENDERS.put(CoordinatorProtocol.CommitsResent.class, PS);
        SENDERS.put(CoordinatorProtocol.MemberOffence.class, COORDINATOR_OR_PS);
        // to trainers
        SENDERS.put(TrainerProtocol.Assignment.class, COORDINATOR);
        SENDERS.put(TrainerProtocol.Rejected.class, COORDINATOR);
        SENDERS.put(TrainerProtocol.ClockFloor.class, COORDINATOR);
        SENDERS.put(TrainerProtocol.Finish.class, COORDINATOR);
        SENDERS.put(TrainerProtocol.Rewind.class, COORDINATOR);
        SENDERS.put(TrainerProtocol.LeaseExtended.class, COORDINATOR);
        SENDERS.put(WorkPlan.class, COORDINATOR);
        SENDERS.put(TrainerProtocol.ParamsSent.class, PS);
        SENDERS.put(TrainerProtocol.ResendGradient.class, PS);
        // the coordinator tells every trainer once a moved or promoted shard has its state (HandOverDone)
        SENDERS.put(TrainerProtocol.ShardMoved.class, COORDINATOR);
        // to shards (a ps node relays what reaches a shard that moved)
        SENDERS.put(ShardProtocol.RequestParams.class, ANY);
        SENDERS.put(ShardProtocol.EmptyContribution.class, TRAINER_OR_PS);
        SENDERS.put(ShardProtocol.SetQuorum.class, COORDINATOR_OR_PS);
        SENDERS.put(ShardProtocol.RollbackShard.class, COORDINATOR_OR_PS);
        SENDERS.put(ShardProtocol.StartShard.class, COORDINATOR_OR_PS);
        SENDERS.put(ShardProtocol.HandOverAck.class, COORDINATOR_OR_PS);
        // state: the coordinator's checkpoint to shards, a shard's state to the coordinator and to its successor
        SENDERS.put(ShardProtocol.StateChunk.class, COORDINATOR_OR_PS);
        // replicas: a shard's owner to the ps nodes that keep its replica, and their answers; promotion is the
        // coordinator's word alone
        SENDERS.put(ShardProtocol.ReplicaCommit.class, PS);
        SENDERS.put(ShardProtocol.ReplicaAck.class, PS);
        SENDERS.put(ShardProtocol.PromoteReplicas.class, COORDINATOR);
        // to any node: a refusal shuts the node down, so only operator-run nodes may say it; a revocation
        // list is the CA's word (signed by it), whoever carries it
        SENDERS.put(NodeProtocol.AdmissionDenied.class, COORDINATOR_OR_PS);
        SENDERS.put(NodeProtocol.RevocationUpdate.class, ANY);
        // the run's events, to the nodes that follow it; a new coordinator asks the shards for the commits its
        // predecessor may not have stored (through sharding: a ps node relays it to a shard that moved)
        SENDERS.put(NodeProtocol.RunEvent.class, COORDINATOR);
        SENDERS.put(ShardProtocol.ResendCommits.class, COORDINATOR_OR_PS);
        // the coordinator's state in Distributed Data, which only coordinator nodes write and pass on
        SENDERS.put(CoordinatorProtocol.StoredState.class, COORDINATOR);
    }

    private ControlAuthorization() {
    }

    /** The roles that may send a message of {@code type}; empty (nobody) for a type not in the table. */
    public static Set<String> senders(Class<?> type) {
        return SENDERS.getOrDefault(type, Set.of());
    }

    /** The whole table, for docs and tests. */
    public static Map<Class<?>, Set<String>> table() {
        return Map.copyOf(SENDERS);
    }
}
