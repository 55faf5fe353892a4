package io.tributary.protocol;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Every class that may appear on the wire, each with a fixed Kryo registration id, so that two
 * nodes built from the same {@link #PROTOCOL_VERSION} agree byte for byte. Ids are never reused
 * or renumbered: retire a message by leaving its id out, add one with a new id, and bump
 * {@link #PROTOCOL_VERSION} whenever the bytes of an existing message change.
 */
public final class ProtocolRegistry {

    /**
     * The version of the wire protocol, control messages and data-plane frames together; nodes of
     * different versions do not stay in one cluster. 3: frame header version 2 (session, sequence, MAC);
     * 4: {@code ShardCommitted} names the outliers a robust rule clipped or trimmed; {@code AdmissionDenied}; 5: shard hand-over and resend messages; 6: work plans, leases and empty
     * contributions (a trainer's batch is the coordinator's word, not a fixed partition); 7: an
     * assignment names its policy as a {@link ConsistencyPolicy}, not a string; 8: one message for
     * state in chunks ({@code StateChunk}, with a digest per part) replaces RestoreChunk, ShardState
     * and OptimizerSnapshot; 9: local SGD (an assignment's inner steps); 10: a quorum names each trainer's
     * data-plane endpoint, {@code MemberOffence}; 11: {@code RegisterTrainer} carries its node's
     * signature, and data-plane roles are signed ({@code dp|endpoint|key|signature}); {@code RevocationUpdate};
     * 12: control messages are signed ({@link ControlSignatures}), data-plane roles announce the
     * control-message key ({@code dp|endpoint|key|control-key|signature}), {@code StepDone} and
     * {@code EmptyContribution} carry their signer; 13: {@code StepDone} carries its node's data-plane bytes sent;
     * 14: shard replicas ({@code ReplicaCommit}, {@code ReplicaAck}, {@code PromoteReplicas}, two new state kinds).
     */
    public static final int PROTOCOL_VERSION = 15;

    /** One registered class and its id. */
    public record Entry(int id, Class<?> type) {
    }

    // Kryo pre-registers primitives and String with ids below 10; ours start far above them.
    private static final List<Entry> SUPPORT_TYPES = List.of(
            // Typed refs travel as their serialization-format string; every implementation maps here.
            new Entry(100, ActorRef.class),
            // The JDK's immutable collections, which the records' compact constructors copy into.
            new Entry(110, List.of().getClass()),
            new Entry(111, List.of(1).getClass()),
            new Entry(112, Set.of().getClass()),
            new Entry(113, Set.of(1).getClass()),
            new Entry(114, Map.of().getClass()),
            new Entry(115, Map.of(1, 1).getClass()),
            // The parameter slices of a shard restore.
            new Entry(116, float[].class),
            // The ranges, trainers and weights of a work plan.
            new Entry(117, int[].class),
            // The consistency policy an assignment names.
            new Entry(118, ConsistencyPolicy.class),
            // What a state chunk is part of.
            new Entry(119, StateKind.class),
            // A run event's arguments.
            new Entry(120, long[].class),
            new Entry(121, double[].class),
            new Entry(122, String[].class),
            // The coordinator's stored state.
            new Entry(123, byte[].class));

    private static final List<Entry> MESSAGES = List.of(
            // 200-204: retired (the first draft's join messages); never reuse these ids.
            new Entry(300, CoordinatorProtocol.RegisterTrainer.class),
            new Entry(301, CoordinatorProtocol.StepDone.class),
            new Entry(302, CoordinatorProtocol.ShardCommitted.class),
            new Entry(303, CoordinatorProtocol.ShardRestored.class),
            new Entry(310, TrainerProtocol.Assignment.class),
            new Entry(311, TrainerProtocol.Rejected.class),
            new Entry(312, TrainerProtocol.ClockFloor.class),
            new Entry(313, TrainerProtocol.Finish.class),
            new Entry(314, TrainerProtocol.ParamsSent.class),
            new Entry(315, TrainerProtocol.Rewind.class),
            new Entry(316, TrainerProtocol.ResendGradient.class),
            new Entry(317, TrainerProtocol.ShardMoved.class),
            new Entry(320, ShardProtocol.RequestParams.class),
            new Entry(321, ShardProtocol.SetQuorum.class),
            new Entry(322, ShardProtocol.RollbackShard.class),
            // 323, 326, 329: retired (RestoreChunk, ShardState, OptimizerSnapshot: now StateChunk); never reuse.
            new Entry(324, CoordinatorProtocol.ShardStarted.class),
            new Entry(325, ShardProtocol.StartShard.class),
            new Entry(327, ShardProtocol.HandOverAck.class),
            new Entry(328, CoordinatorProtocol.HandOverDone.class),
            new Entry(333, WorkPlan.class),
            new Entry(334, TrainerProtocol.LeaseExtended.class),
            new Entry(335, ShardProtocol.EmptyContribution.class),
            new Entry(336, ShardProtocol.StateChunk.class),
            new Entry(330, NodeProtocol.AdmissionDenied.class),
            new Entry(337, CoordinatorProtocol.MemberOffence.class),
            new Entry(338, NodeProtocol.RevocationUpdate.class),
            new Entry(339, ShardProtocol.ReplicaCommit.class),
            new Entry(340, ShardProtocol.ReplicaAck.class),
            new Entry(341, ShardProtocol.PromoteReplicas.class),
            new Entry(342, NodeProtocol.RunEvent.class),
            new Entry(343, ShardProtocol.ResendCommits.class),
            new Entry(344, CoordinatorProtocol.StoredState.class),
            new Entry(345, CoordinatorProtocol.CommitsResent.class));

    static {
        Set<Integer> ids = new HashSet<>();
        Set<Class<?>> types = new HashSet<>();
        for (Entry e : all()) {
            if (!ids.add(e.id()) || !types.add(e.type())) {
                throw new ExceptionInInitializerError("ProtocolRegistry lists id " + e.id() + " or class "
                        + e.type().getName() + " twice: give every class one id of its own");
            }
        }
        for (Entry e : MESSAGES) {
            if (!WireMessage.class.isAssignableFrom(e.type()) || !e.type().isRecord()) {
                throw new ExceptionInInitializerError(e.type().getName()
                        + " is registered as a message but is not a record implementing WireMessage");
            }
        }
    }

    private ProtocolRegistry() {
    }

    /** The messages, each a record implementing {@link WireMessage}. */
    public static List<Entry> messages() {
        return MESSAGES;
    }

    /** Classes that only appear inside messages (typed refs, immutable collections). */
    public static List<Entry> supportTypes() {
        return SUPPORT_TYPES;
    }

    /** Support types first, then messages. */
    public static List<Entry> all() {
        return Stream.concat(SUPPORT_TYPES.stream(), MESSAGES.stream()).toList();
    }
}
