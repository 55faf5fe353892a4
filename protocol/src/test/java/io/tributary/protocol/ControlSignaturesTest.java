package io.tributary.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.protocol.CoordinatorProtocol.StepDone;
import io.tributary.protocol.ShardProtocol.EmptyContribution;
import io.tributary.protocol.ShardProtocol.SetQuorum;
import io.tributary.protocol.TrainerProtocol.Finish;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.bouncycastle.math.ec.rfc8032.Ed25519;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Signed control messages between real actor systems' serializers: each system plays one member
 * (its own key, its certificate's roles), and what one serializes the other deserializes. The roles
 * each message may come from are the and docs/security.md's table, restated here by hand.
 */
class ControlSignaturesTest {

    private final List<ActorTestKit> kits = new ArrayList<>();
    private final List<String> refusals = new ArrayList<>();

    /** One member: its actor system and the signer others know it by. */
    private record Member(ActorTestKit kit, ControlSignatures.Signer signer) {
        Serializer serializer(Object message) {
            return SerializationExtension.get(Adapter.toClassic(kit.system())).findSerializerFor(message);
        }

        byte[] send(Object message) {
            return serializer(message).toBinary(message);
        }

        Object receive(byte[] bytes) {
            return ((KryoSerializer) serializer(new Finish("x"))).fromBinaryJava(bytes, null);
        }
    }

    @AfterEach
    void stop() {
        kits.forEach(ActorTestKit::shutdownTestKit);
    }

    /** A member named {@code id} with {@code roles} that trusts the signers in {@code others} (looked up by id). */
    private Member member(String id, Set<String> roles, String endpoint, Map<String, ControlSignatures.Signer> others) {
        ActorTestKit kit = ActorTestKit.create("ControlSignaturesTest");
        kits.add(kit);
        byte[][] keys = ControlSignatures.newKeyPair();
        ControlSignatures.Signer me = new ControlSignatures.Signer(id, keys[1], roles, endpoint);
        ControlSignatures.get(Adapter.toClassic(kit.system())).enable(me, keys[0], others::get,
                (reason, signerId, signer, type, what) -> {
                    synchronized (refusals) {
                        refusals.add(reason + " " + signerId + " " + type);
                    }
                });
        others.put(id, me);
        return new Member(kit, me);
    }

    private static final Set<String> COORDINATOR = Set.of("coordinator");
    private static final Set<String> PS = Set.of("ps");
    private static final Set<String> TRAINER = Set.of("trainer");

    private static ShardCommitted committed() {
        return new ShardCommitted(0, 5, 2, 2, false, Set.of(), Set.of(1), Map.of(1, 7L), 6, "ps-a");
    }

    private static SetQuorum quorum(Member from) {
        return new SetQuorum(1, 2, Map.of(0, "127.0.0.1:40001"), 0,
                from.kit().createTestProbe(CoordinatorProtocol.CoordinatorCommand.class).ref());
    }

    @Test
    void aMessageSignedByARoleThatMaySendItArrivesIntact() {
        Map<String, ControlSignatures.Signer> known = new java.util.concurrent.ConcurrentHashMap<>();
        Member coordinator = member("127.0.0.1:25520", COORDINATOR, "127.0.0.1:40000", known);
        Member ps = member("127.0.0.1:25521", PS, "127.0.0.1:40010", known);
        assertEquals(committed(), coordinator.receive(ps.send(committed())));
        SetQuorum q = quorum(coordinator);
        assertEquals(q.endpoints(), ((SetQuorum) ps.receive(coordinator.send(q))).endpoints());
        assertTrue(refusals.isEmpty(), refusals.toString());
    }

    @Test
    void aTrainerTakesWordOfAMovedShardFromTheCoordinatorNotFromAPsNode() {
        // ShardRecovery (in the coordinator's JVM, whose certificate grants only "coordinator") tells every
        // trainer when a moved or promoted shard has its state; no ps node sends it
        Map<String, ControlSignatures.Signer> known = new java.util.concurrent.ConcurrentHashMap<>();
        Member coordinator = member("127.0.0.1:25520", COORDINATOR, "127.0.0.1:40000", known);
        Member ps = member("127.0.0.1:25521", PS, "127.0.0.1:40010", known);
        Member trainer = member("127.0.0.1:25522", TRAINER, "127.0.0.1:40020", known);
        TrainerProtocol.ShardMoved moved = new TrainerProtocol.ShardMoved(3, 99L);
        assertEquals(moved, trainer.receive(coordinator.send(moved)));
        assertThrows(IllegalArgumentException.class, () -> trainer.receive(ps.send(moved)));
        assertEquals(List.of("NOT_ITS_ROLE 127.0.0.1:25521 ShardMoved"), refusals);
    }

    @Test
    void aTrainerCannotSendTheCoordinatorsOrAShardsMessages() {
        Map<String, ControlSignatures.Signer> known = new java.util.concurrent.ConcurrentHashMap<>();
        Member ps = member("127.0.0.1:25521", PS, "127.0.0.1:40010", known);
        Member trainer = member("127.0.0.1:25522", TRAINER, "127.0.0.1:40020", known);
        Member otherTrainer = member("127.0.0.1:25523", TRAINER, "127.0.0.1:40030", known);
        // SetQuorum: the coordinator's (or a ps node relaying it); Finish: the coordinator's;
        // ShardCommitted: a ps node's
        assertThrows(IllegalArgumentException.class, () -> ps.receive(trainer.send(quorum(trainer))));
        assertThrows(IllegalArgumentException.class, () -> otherTrainer.receive(trainer.send(new Finish("stop"))));
        assertThrows(IllegalArgumentException.class, () -> ps.receive(trainer.send(
                committed())));
        assertEquals(List.of("NOT_ITS_ROLE 127.0.0.1:25522 SetQuorum", "NOT_ITS_ROLE 127.0.0.1:25522 Finish",
                "NOT_ITS_ROLE 127.0.0.1:25522 ShardCommitted"), refusals);
    }

    @Test
    void aTrainersWordCarriesTheEndpointThatSignedItAndAPsRelayCarriesNone() {
        Map<String, ControlSignatures.Signer> known = new java.util.concurrent.ConcurrentHashMap<>();
        Member coordinator = member("127.0.0.1:25520", COORDINATOR, "127.0.0.1:40000", known);
        Member ps = member("127.0.0.1:25521", PS, "127.0.0.1:40010", known);
        Member trainer = member("127.0.0.1:25522", TRAINER, "127.0.0.1:40020", known);
        StepDone done = new StepDone(3, 9, 0.5f, 64, 1, 1, 0, List.of(1L), 0L);
        assertEquals("", done.signer());
        StepDone got = (StepDone) coordinator.receive(trainer.send(done));
        assertEquals("127.0.0.1:40020", got.signer());
        assertEquals(3, got.trainerId());
        EmptyContribution relayed = (EmptyContribution) ps.receive(ps.send(new EmptyContribution(3, 9)));
        assertEquals("", relayed.signer());
        // a signer field set by the sender is overwritten by the receiver's verified one
        StepDone forged = (StepDone) coordinator.receive(trainer.send(done.withSigner("127.0.0.1:40030")));
        assertEquals("127.0.0.1:40020", forged.signer());
    }

    @Test
    void anAlteredMessageAnUnknownSignerAndAnUnsignedMessageAreRefused() {
        Map<String, ControlSignatures.Signer> known = new java.util.concurrent.ConcurrentHashMap<>();
        Member coordinator = member("127.0.0.1:25520", COORDINATOR, "127.0.0.1:40000", known);
        Member ps = member("127.0.0.1:25521", PS, "127.0.0.1:40010", known);
        byte[] bytes = coordinator.send(quorum(coordinator));
        byte[] altered = bytes.clone();
        altered[altered.length - 70] ^= 1; // a byte of the body
        assertThrows(IllegalArgumentException.class, () -> ps.receive(altered));
        // a member this node cannot vouch for
        known.remove("127.0.0.1:25520");
        ControlSignatures.get(Adapter.toClassic(ps.kit().system())).forget("127.0.0.1:25520"); // it left
        assertThrows(IllegalArgumentException.class, () -> ps.receive(bytes));
        // a member of a cluster without TLS (no signature block)
        ActorTestKit plain = ActorTestKit.create("ControlSignaturesTest");
        kits.add(plain);
        Object message = new Finish("done");
        byte[] unsigned = SerializationExtension.get(Adapter.toClassic(plain.system())).findSerializerFor(message)
                .toBinary(message);
        assertThrows(IllegalArgumentException.class, () -> ps.receive(unsigned));
        assertEquals(List.of("BAD_SIGNATURE 127.0.0.1:25520 unknown", "UNKNOWN_SIGNER 127.0.0.1:25520 unknown",
                "UNSIGNED ? unknown"), refusals);
    }

    @Test
    void aSignatureIsRfc8032Ed25519WithTheProtocolsContextOverAllThatPrecedesIt() {
        Map<String, ControlSignatures.Signer> known = new java.util.concurrent.ConcurrentHashMap<>();
        Member coordinator = member("127.0.0.1:25520", COORDINATOR, "127.0.0.1:40000", known);
        byte[] bytes = coordinator.send(new Finish("done"));
        int signed = bytes.length - 64;
        byte[] signature = java.util.Arrays.copyOfRange(bytes, signed, bytes.length);
        assertTrue(Ed25519.verify(signature, 0, coordinator.signer().publicKey(), 0,
                "tributary control message v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII), bytes, 0, signed));
        assertFalse(Ed25519.verify(signature, 0, coordinator.signer().publicKey(), 0,
                "another context".getBytes(java.nio.charset.StandardCharsets.US_ASCII), bytes, 0, signed));
        byte[] id = "127.0.0.1:25520".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(id.length, bytes[1]);
        assertArrayEquals(id, java.util.Arrays.copyOfRange(bytes, 2, 2 + id.length));
    }

    @Test
    void everyRegisteredMessageHasItsSendersInTheTable() {
        for (ProtocolRegistry.Entry e : ProtocolRegistry.messages()) {
            assertFalse(ControlAuthorization.senders(e.type()).isEmpty(), e.type().getName() + " has no senders");
        }
        // the trainer's whole say: its registration, its reports, its own parameter requests and empty
        // contributions, and carrying the CA's revocation list
        List<String> trainerMay = new ArrayList<>();
        ControlAuthorization.table().forEach((type, roles) -> {
            if (roles.contains("trainer")) {
                trainerMay.add(type.getSimpleName());
            }
        });
        java.util.Collections.sort(trainerMay);
        assertEquals(List.of("EmptyContribution", "RegisterTrainer", "RequestParams", "RevocationUpdate", "StepDone"),
                trainerMay);
    }
}
