package io.tributary.ps.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.ps.protocol.ControlMessages.JoinAccepted;
import io.tributary.ps.protocol.ControlMessages.JoinRejected;
import io.tributary.ps.protocol.ControlMessages.JoinReply;
import io.tributary.ps.protocol.ControlMessages.JoinRequest;
import io.tributary.ps.protocol.ControlMessages.StepCommit;
import io.tributary.ps.protocol.ControlMessages.TrainerLeft;
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
    private static TestProbe<JoinReply> replies;

    /** A wire message that nobody registered. */
    record Unlisted(int value) implements WireMessage {
    }

    @BeforeAll
    static void start() {
        testKit = ActorTestKit.create("KryoSerializerTest");
        serialization = SerializationExtension.get(testKit.system());
        replies = testKit.createTestProbe(JoinReply.class);
    }

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    /** One sample per registered message; a message added to the registry without one fails the test. */
    private static Map<Class<?>, WireMessage> samples() {
        return Map.of(
                JoinRequest.class, new JoinRequest("node-a", ProtocolRegistry.PROTOCOL_VERSION,
                        Set.of("ps", "trainer"), "cuda: NVIDIA H100 (auto)", 40123, replies.ref()),
                JoinAccepted.class, new JoinAccepted(7L, 2, 5, 1234L),
                JoinRejected.class, new JoinRejected("protocol version 2 differs from the run's 1: upgrade the node"),
                StepCommit.class, new StepCommit(7L, 99L, 4),
                TrainerLeft.class, new TrainerLeft("node-b", "downed by the split brain resolver"));
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
    void serializerIdentifierIsTheFixedOneFromConfig() {
        Serializer serializer = serialization.findSerializerFor(new StepCommit(1, 2, 3));
        assertEquals(7291, serializer.identifier());
        assertEquals(7291, testKit.system().settings().config().getInt(KryoSerializer.IDENTIFIER_KEY));
    }

    @Test
    void everyRecordOfTheControlProtocolsIsRegistered() {
        Set<Class<?>> registered = new HashSet<>();
        ProtocolRegistry.messages().forEach(e -> registered.add(e.type()));
        for (Class<?> nested : ControlMessages.class.getDeclaredClasses()) {
            if (nested.isRecord() && WireMessage.class.isAssignableFrom(nested)) {
                assertTrue(registered.contains(nested), nested.getName() + " is not in ProtocolRegistry");
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
        JoinRequest request = new JoinRequest("node-c", 1, Set.of("trainer"), "cpu: OpenBLAS", 40200, replies.ref());
        JoinRequest back = (JoinRequest) roundTrip(request);
        assertEquals(replies.ref(), back.replyTo());
        back.replyTo().tell(new JoinAccepted(1, 0, 1, 0));
        assertEquals(new JoinAccepted(1, 0, 1, 0), replies.receiveMessage(Duration.ofSeconds(5)));
    }

    @Test
    void rolesOfEverySizeAndAnyMutableSetRoundTrip() {
        List<Set<String>> roleSets = List.of(Set.of(), Set.of("ps"), Set.of("ps", "trainer"),
                Set.of("coordinator", "ps", "trainer"), new TreeSet<>(List.of("b", "a")), new HashSet<>(List.of("x")));
        for (Set<String> roles : roleSets) {
            JoinRequest request = new JoinRequest("n", 1, roles, "cpu", 1, replies.ref());
            assertEquals(request, roundTrip(request), "roles " + roles);
        }
    }

    @Test
    void unknownRegistrationIdIsReportedAsAProtocolMismatch() {
        int id = serialization.findSerializerFor(new StepCommit(1, 1, 1)).identifier();
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
                        StepCommit m = new StepCommit(thread, i, i % 7);
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
