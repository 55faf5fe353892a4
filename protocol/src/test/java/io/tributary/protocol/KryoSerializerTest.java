package io.tributary.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.TrainerProtocol.Assignment;
import io.tributary.protocol.TrainerProtocol.ClockFloor;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.TrainerProtocol.Finish;
import io.tributary.protocol.TrainerProtocol.ParamsSent;
import io.tributary.protocol.CoordinatorProtocol.RegisterTrainer;
import io.tributary.protocol.TrainerProtocol.Rejected;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.ShardProtocol.SetQuorum;
import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.protocol.CoordinatorProtocol.StepDone;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.util.Try;

class KryoSerializerTest {

    private static ActorTestKit testKit;
    private static Serialization serialization;
    private static TestProbe<TrainerCommand> replies;
    private static TestProbe<ShardProtocol.ShardReply> paramReplies;
    private static TestProbe<ShardProtocol.ShardCommand> shardProbe;
    private static TestProbe<CoordinatorCommand> coordinator;

    /** A wire message that nobody registered. */
    record Unlisted(int value) implements WireMessage {
    }

    @BeforeAll
    static void start() {
        testKit = ActorTestKit.create("KryoSerializerTest");
        serialization = SerializationExtension.get(testKit.system());
        replies = testKit.createTestProbe(TrainerCommand.class);
        paramReplies = testKit.createTestProbe(ShardProtocol.ShardReply.class);
        shardProbe = testKit.createTestProbe(ShardProtocol.ShardCommand.class);
        coordinator = testKit.createTestProbe(CoordinatorCommand.class);
    }

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    /** One sample per registered message; a message added to the registry without one fails the test. */
    private static Map<Class<?>, WireMessage> samples() {
        return Map.ofEntries(
                Map.entry(RegisterTrainer.class, new RegisterTrainer("pekko://tributary@127.0.0.1:25521", 1,
                        "cuda: NVIDIA H100 (auto)", "127.0.0.1:40123", replies.ref(), "MEUCIQDsig-_base64url")),
                Map.entry(StepDone.class, new StepDone(2, 99L, 0.25f, 64, 5_000_000L, 1_000_000L, 97L, List.of(1L, 4_000_000_000L), 123_456_789_012L)),
                Map.entry(NodeProtocol.AdmissionDenied.class, new NodeProtocol.AdmissionDenied("pekko://tributary@127.0.0.1:4000", "role ps not granted")),
                Map.entry(ShardCommitted.class, new ShardCommitted(3, 99L, 2, 3, true, Set.of(2), Set.of(0), Map.of(0, 12L, 2, 4_000_000_000L), 100L, "127.0.0.1:4000/ab12")),
                Map.entry(Assignment.class, new Assignment(7L, 2, 3, 10L, 2340L, 468, 42, 1, ConsistencyPolicy.BOUNDED_STALENESS, 2,
                        Set.of(0, 1, 2, 3))),
                Map.entry(CoordinatorProtocol.ShardRestored.class, new CoordinatorProtocol.ShardRestored(2, 3L, 50L, "ps/ab")),
                Map.entry(TrainerProtocol.Rewind.class, new TrainerProtocol.Rewind(50L, "a ps node left")),
                Map.entry(Rejected.class, new Rejected("protocol version 2 differs from the coordinator's 1")),
                Map.entry(ClockFloor.class, new ClockFloor(41L)),
                Map.entry(Finish.class, new Finish("the run reached its 2340 steps")),
                Map.entry(ParamsSent.class, new ParamsSent(1, 100L, "127.0.0.1:40999")),
                Map.entry(RequestParams.class, new RequestParams(2, "127.0.0.1:40123", 100L, paramReplies.ref())),
                Map.entry(SetQuorum.class, new SetQuorum(7L, 3L, Map.of(0, "127.0.0.1:40001", 2, "127.0.0.1:40002"), 1,
                        coordinator.ref())),
                Map.entry(NodeProtocol.RevocationUpdate.class, new NodeProtocol.RevocationUpdate(
                        "# revoked\n1f3a  CN=alice,O=Tributary  2026-12-03T13:00:00Z  stolen\n", "MEUCIQD0")),
                Map.entry(CoordinatorProtocol.MemberOffence.class, new CoordinatorProtocol.MemberOffence(
                        "pekko://tributary@127.0.0.1:25521", "pekko://tributary@127.0.0.1:25520",
                        "sent gradient frames as trainer 3, an id the coordinator gave to another node", "MEQCIA")),
                Map.entry(ShardProtocol.RollbackShard.class,
                        new ShardProtocol.RollbackShard(7L, 2L, 50L, 133955, 2, coordinator.ref())),
                Map.entry(TrainerProtocol.ResendGradient.class, new TrainerProtocol.ResendGradient(2, 99L, "127.0.0.1:40999")),
                Map.entry(CoordinatorProtocol.ShardStarted.class,
                        new CoordinatorProtocol.ShardStarted(7L, 2, "127.0.0.1:40999/ab12", shardProbe.ref())),
                Map.entry(TrainerProtocol.ShardMoved.class, new TrainerProtocol.ShardMoved(2, 240L)),
                Map.entry(ShardProtocol.StartShard.class, new ShardProtocol.StartShard(7L, 2)),
                Map.entry(ShardProtocol.StateChunk.class, new ShardProtocol.StateChunk(7L, 2, StateKind.HAND_OVER, 0L,
                        "127.0.0.1:40999/ab12", 100L, 100L, 3, 1, 32768, new float[] {1.5f, Float.NaN, -0f, 3e-39f},
                        0xCAFEL, shardProbe.ref())),
                Map.entry(ShardProtocol.ReplicaCommit.class, new ShardProtocol.ReplicaCommit(7L, new ShardCommitted(3, 99L,
                        2, 3, false, Set.of(), Set.of(1), Map.of(0, 12L), 100L, "127.0.0.1:4000/ab12"))),
                Map.entry(ShardProtocol.ReplicaAck.class, new ShardProtocol.ReplicaAck(7L, 3, "127.0.0.1:4000/ab12", 100L,
                        true, shardProbe.ref())),
                Map.entry(ShardProtocol.PromoteReplicas.class, new ShardProtocol.PromoteReplicas(7L, "127.0.0.1:4000/",
                        Set.of(1, 3), coordinator.ref())),
                Map.entry(ShardProtocol.HandOverAck.class, new ShardProtocol.HandOverAck(2, "127.0.0.1:40999/ab12")),
                Map.entry(CoordinatorProtocol.HandOverDone.class,
                        new CoordinatorProtocol.HandOverDone(2, 100L, "127.0.0.1:41000/cd34", "127.0.0.1:40999/ab12")),
                Map.entry(WorkPlan.class, new WorkPlan(7L, 3, 1, 940L, 1404L, new int[] {0, 64, 128, 59_392},
                        new int[] {0, 2, 5}, new int[] {1000, 400, 1600}, true, 948L)),
                Map.entry(TrainerProtocol.LeaseExtended.class, new TrainerProtocol.LeaseExtended(7L, 952L)),
                Map.entry(ShardProtocol.EmptyContribution.class, new ShardProtocol.EmptyContribution(4, 941L)),
                Map.entry(NodeProtocol.RunEvent.class, new NodeProtocol.RunEvent(7L, "workPlanned", new long[] {3, 940, 0, 42},
                        new double[] {Double.NaN, 0.9659}, new String[] {"trainer 2 gone", ""})),
                Map.entry(ShardProtocol.ResendCommits.class, new ShardProtocol.ResendCommits(7L, 51L, coordinator.ref())),
                Map.entry(CoordinatorProtocol.StoredState.class, new CoordinatorProtocol.StoredState(7L, 56L,
                        1_796_000_000_000L, new byte[] {120, -100, 3, 0})),
                Map.entry(CoordinatorProtocol.CommitsResent.class, new CoordinatorProtocol.CommitsResent(2, 57L,
                        "127.0.0.1:40999/ab12")));
    }

    private static Object roundTrip(Object message) {
        Serializer serializer = serialization.findSerializerFor(message);
        assertInstanceOf(KryoSerializer.class, serializer, "serializer for " + message.getClass().getName());
        byte[] bytes = serialization.serialize(message).get();
        return serialization.deserialize(bytes, serializer.identifier(), "").get();
    }

    @Test
    void everyRegisteredMessageRoundTripsThroughOurSerializer() {
        Map<Class<?>, WireMessage> samples = samples();
        for (ProtocolRegistry.Entry e : ProtocolRegistry.messages()) {
            WireMessage sample = samples.get(e.type());
            assertTrue(sample != null, "no round-trip sample for registered " + e.type().getName() + ": add one");
            assertEquals(sample, roundTrip(sample), e.type().getName());
        }
        assertEquals(ProtocolRegistry.messages().size(), samples.size(), "a sample for a class not in the registry");
    }

    @Test
    void aStateChunkWithoutReplyToRoundTrips() {
        // rollback and optimizer-cut chunks carry no reply-to: the wire must take the null
        ShardProtocol.StateChunk c = new ShardProtocol.StateChunk(7L, 1, StateKind.ROLLBACK, 3L, "coordinator",
                250L, 250L, 3, 2, 0, new float[] {Float.NaN, -0f}, -1L, null);
        assertEquals(c, roundTrip(c));
    }

    @Test
    void serializerIdentifierIsTheFixedOneFromConfig() {
        Serializer serializer = serialization.findSerializerFor(new ClockFloor(1));
        assertEquals(7291, serializer.identifier());
        assertEquals(7291, testKit.system().settings().config().getInt(KryoSerializer.IDENTIFIER_KEY));
    }

    @Test
    void everyRecordOfTheControlProtocolsIsRegistered() {
        Set<Class<?>> registered = new HashSet<>();
        ProtocolRegistry.messages().forEach(e -> registered.add(e.type()));
        for (Class<?> audience : List.of(CoordinatorProtocol.class, ShardProtocol.class, TrainerProtocol.class,
                NodeProtocol.class)) {
            for (Class<?> nested : audience.getDeclaredClasses()) {
                if (nested.isRecord() && WireMessage.class.isAssignableFrom(nested)) {
                    assertTrue(registered.contains(nested), nested.getName() + " is not in ProtocolRegistry");
                }
            }
        }
    }

    @Test
    void unregisteredMessageIsRefusedNamingTheClassAndTheRegistry() {
        assertInstanceOf(KryoSerializer.class, serialization.findSerializerFor(new Unlisted(1)));
        Try<byte[]> result = serialization.serialize(new Unlisted(1));
        assertTrue(result.isFailure(), "an unregistered message was serialized");
        String message = result.failed().get().getMessage();
        assertTrue(message.contains(Unlisted.class.getName()) && message.contains("ProtocolRegistry")
                && !message.contains("\n"), message);
    }

    @Test
    void messageCarryingTypedActorRefRoundTripsAndTheRefStillDelivers() {
        RequestParams request = new RequestParams(1, "127.0.0.1:40200", 5, paramReplies.ref());
        RequestParams back = (RequestParams) roundTrip(request);
        assertEquals(paramReplies.ref(), back.replyTo());
        back.replyTo().tell(new ParamsSent(0, 5, "127.0.0.1:1"));
        assertEquals(new ParamsSent(0, 5, "127.0.0.1:1"), paramReplies.receiveMessage(Duration.ofSeconds(5)));
    }

    @Test
    void mapsOfEverySizeAndAnyMutableMapRoundTrip() {
        Map<Integer, String> twelve = new java.util.HashMap<>();
        for (int i = 0; i < 12; i++) {
            twelve.put(i, "127.0.0.1:" + (40000 + i));
        }
        List<Map<Integer, String>> maps = List.of(Map.of(), Map.of(1, "a:1"), Map.of(1, "a:1", 2, "b:2"), Map.copyOf(twelve),
                new java.util.TreeMap<>(Map.of(5, "e:5", 4, "d:4")), new java.util.HashMap<>(Map.of(9, "i:9")));
        for (Map<Integer, String> trainers : maps) {
            SetQuorum q = new SetQuorum(1, 1, trainers, 0, coordinator.ref());
            assertEquals(q, roundTrip(q), "trainers " + trainers);
            assertEquals(trainers.keySet(), roundTrip(q) instanceof SetQuorum r ? r.trainers() : null);
        }
    }

    @Test
    void setsOfEverySizeAndAnyMutableSetRoundTrip() {
        List<Set<Integer>> sets = List.of(Set.of(), Set.of(1), Set.of(1, 2), Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
                new TreeSet<>(List.of(5, 4)), new HashSet<>(List.of(9)));
        for (Set<Integer> rejected : sets) {
            CoordinatorProtocol.ShardCommitted c = new CoordinatorProtocol.ShardCommitted(1, 2, 3, 3, false, rejected,
                    Set.of(), Map.of(), 3, "owner");
            assertEquals(c, roundTrip(c), "rejected " + rejected);
        }
    }

    @Test
    void unknownRegistrationIdIsReportedAsAProtocolMismatch() {
        int id = serialization.findSerializerFor(new ClockFloor(1)).identifier();
        // Kryo writes a class as its registration id + 2 in a varint: 999 + 2 = 1001 = 0xE9 0x07.
        Try<Object> result = serialization.deserialize(new byte[] {(byte) 0xE9, 0x07, 0, 0}, id, "");
        assertTrue(result.isFailure());
        String message = result.failed().get().getMessage();
        assertTrue(message.contains("protocol version " + ProtocolRegistry.PROTOCOL_VERSION), message);
    }

    @Test
    void poolServesConcurrentCallers() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        ShardCommitted m = new ShardCommitted(thread, i, i % 7, 7, false, i % 3 == 0 ? Set.of() : Set.of(thread), Set.of(), Map.of(thread, (long) i), i + 1L, "o");
                        assertEquals(m, roundTrip(m));
                    }
                }));
            }
            for (Future<?> f : results) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
