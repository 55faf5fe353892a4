package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.Config;
import io.tributary.config.ConfigLoader;
import io.tributary.dataplane.FaultHooks;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.CoordinatorProtocol.MemberOffence;
import io.tributary.protocol.CoordinatorProtocol.RegisterTrainer;
import io.tributary.protocol.ProtocolRegistry;
import io.tributary.protocol.TrainerProtocol.Rejected;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import io.tributary.tls.MemberSignatures;
import io.tributary.tls.TestPki;
import io.tributary.tls.TlsMaterial;
import io.tributary.wire.FrameAuth;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A member is who its certificate says: real nodes on 127.0.0.1 with mutual TLS and a real CA. A
 * member's data-plane announcement counts only when its certificate's key signed it; a trainer's
 * registration only when it is its node's word, and the trainer is its certificate, whatever its port.
 */
class MemberIdentityTest {

    /** Control messages the stand-in nodes refused (none are expected). */
    private static final java.util.Queue<String> LOG_REFUSAL = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** A control-message key for announcements the tests write by hand. */
    private static final String CONTROL_KEY = java.util.Base64.getUrlEncoder().withoutPadding()
            .encodeToString(io.tributary.protocol.ControlSignatures.newKeyPair()[1]);

    private static final TestPki PKI = new TestPki("identity");
    private static final Duration WAIT = Duration.ofSeconds(30);

    private ListAppender<ILoggingEvent> logs;
    private final List<AutoCloseable> closing = new java.util.ArrayList<>();

    /** Captures the ERROR and WARN lines (the test logging level) of every node in this JVM. */
    @BeforeEach
    void captureLogs() {
        logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
        coordinatorLevel = coordinatorLogger().getLevel();
        coordinatorLogger().setLevel(ch.qos.logback.classic.Level.INFO); // "trainer N registered from ..."
    }

    private ch.qos.logback.classic.Level coordinatorLevel;

    private static Logger coordinatorLogger() {
        return (Logger) LoggerFactory.getLogger("io.tributary.coordinator");
    }

    @AfterEach
    void release() throws Exception {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        coordinatorLogger().setLevel(coordinatorLevel);
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    static Config tls(Path dir) {
        return ConfigLoader.load(null, Map.of("tributary.tls.dir", dir.toString()));
    }

    static NodeSettings settings(Set<String> roles, TributaryNode seed) {
        return new NodeSettings(roles, "127.0.0.1", 0,
                seed == null ? List.of() : List.of(new NodeSettings.HostPort("127.0.0.1", seed.port())), 0);
    }

    /** A node with a data plane that admits members as ClusterTraining's nodes do. */
    record PlaneNode(TributaryNode node, NodeDataPlane plane) {
    }

    PlaneNode planeNode(Set<String> roles, Path tlsDir, TributaryNode seed) {
        return planeNode(roles, tls(tlsDir), seed);
    }

    PlaneNode planeNode(Set<String> roles, Config config, TributaryNode seed) {
        NodeSettings s = settings(roles, seed);
        NodeDataPlane plane = ClusterTraining.openDataPlane(s, config, FaultHooks.NONE);
        closing.add(plane);
        byte[][] keys = io.tributary.protocol.ControlSignatures.newKeyPair();
        TributaryNode node = TributaryNode.start(s, config, t -> List.of(DataPlanePeers.role(plane, "127.0.0.1", t, keys[1])));
        closing.add(node);
        DataPlanePeers.follow(node.system(), plane, new ConcurrentHashMap<>(), node.tls());
        node.tls().ifPresent(t -> ClusterTraining.enableControlSignatures(node.system(), t, node.address(),
                plane.endpoint(), keys, (reason, id, signer, type, what) -> LOG_REFUSAL.add(what)));
        return new PlaneNode(node, plane);
    }

    /** A node that publishes {@code role} as its data-plane announcement, whatever it says. */
    TributaryNode announcing(Path tlsDir, TributaryNode seed, String role) {
        TributaryNode node = TributaryNode.start(settings(Set.of("trainer"), seed), tls(tlsDir), t -> List.of(role));
        closing.add(node);
        // it signs its own messages like any node (with a key its announcement may not carry) and checks others'
        node.tls().ifPresent(t -> ClusterTraining.enableControlSignatures(node.system(), t, node.address(),
                "127.0.0.1:1", io.tributary.protocol.ControlSignatures.newKeyPair(), (reason, id, signer, type, what) -> { }));
        return node;
    }

    @Test
    void aDataPlaneAnnouncementSignedByAnotherKeyIsNotAdmittedAndItsMemberIsDowned() throws Exception {
        PlaneNode seed = planeNode(Set.of("coordinator"), PKI.node("coordinator"), null);
        PlaneNode honest = planeNode(Set.of("trainer"), PKI.node("trainer"), seed.node());
        await("the seed admits the honest member's signed endpoint", () -> seed.plane().auth().knows(honest.plane().endpoint()));

        // the liar's announcement is signed by a key that is not its certificate's (another node's)
        TlsMaterial.Node other = TlsMaterial.loadNode(PKI.node("trainer"));
        String endpoint = "127.0.0.1:39999";
        String key = FrameAuth.generate().publicKeyText();
        String control = CONTROL_KEY;
        String forged = DataPlanePeers.ROLE_PREFIX + endpoint + "|" + key + "|" + control + "|"
                + MemberSignatures.sign(other.key(), MemberSignatures.DATA_PLANE_LABEL, "127.0.0.1", endpoint, key, control);
        TributaryNode liar = announcing(PKI.node("trainer"), seed.node(), forged);
        awaitDowned(liar);
        assertTrue(logged("member " + liar.address(), "with a signature its certificate", "did not make", "downing it"),
                "the seed names the liar: " + errors());
        assertFalse(seed.plane().auth().knows(endpoint), "the forged endpoint's key never entered the data plane");
        // it stops on the Down; the refusal that tells it why (AdmissionDenied) is dropped when it reaches the liar
        // before the liar can check the seed's signature, so the liar may know only that it was downed
        String why = liar.failure().orElseThrow();
        assertTrue(why.contains("did not make") || why.startsWith("this node was downed by the cluster"), why);
        assertTrue(seed.plane().auth().knows(honest.plane().endpoint()), "the honest member stays");
    }

    @Test
    void anAnnouncementOfAnotherMembersEndpointIsNotAdmittedAndItsMemberIsDowned() throws Exception {
        PlaneNode seed = planeNode(Set.of("coordinator"), PKI.node("coordinator"), null);
        PlaneNode honest = planeNode(Set.of("trainer"), PKI.node("trainer"), seed.node());
        await("the seed admits the honest member", () -> seed.plane().auth().knows(honest.plane().endpoint()));

        // signed with the liar's own key, but for the honest member's endpoint and a key of the liar's
        Path liarDir = PKI.node("trainer");
        TlsMaterial.Node liarTls = TlsMaterial.loadNode(liarDir);
        String endpoint = honest.plane().endpoint();
        String key = FrameAuth.generate().publicKeyText();
        String control = CONTROL_KEY;
        String stolen = DataPlanePeers.ROLE_PREFIX + endpoint + "|" + key + "|" + control + "|"
                + MemberSignatures.sign(liarTls.key(), MemberSignatures.DATA_PLANE_LABEL, "127.0.0.1", endpoint, key, control);
        TributaryNode liar = announcing(liarDir, seed.node(), stolen);
        awaitDowned(liar);
        assertTrue(logged("member " + liar.address(), "announces data-plane endpoint " + endpoint,
                        "of another certificate announced first", "downing it"), "the seed names the liar: " + errors());
        await("the liar is removed", () -> !knowsMember(seed.node(), liar));
        assertTrue(seed.plane().auth().knows(endpoint), "the honest member keeps its endpoint after the liar is gone");
    }

    // ---- trainer registrations: the coordinator keys a trainer on its certificate ----

    private static final String[] TRAINER_CONFIG = {"tributary.data.set", "synthetic", "tributary.cluster.min-trainers", "3"};

    static Config trainingConfig(Path dir) {
        Map<String, String> m = new java.util.HashMap<>();
        if (dir == null) {
            m.put("tributary.tls.enabled", "off");
        } else {
            m.put("tributary.tls.dir", dir.toString());
        }
        for (int i = 0; i < TRAINER_CONFIG.length; i += 2) {
            m.put(TRAINER_CONFIG[i], TRAINER_CONFIG[i + 1]);
        }
        return ConfigLoader.load(null, m);
    }

    /** A coordinator node that runs its part of a run (the run waits for 3 trainers, so it never starts here). */
    PlaneNode coordinatorNode(Path dir) {
        Config config = trainingConfig(dir); // dir null: TLS off
        NodeSettings s = settings(Set.of("coordinator"), null);
        NodeDataPlane plane = ClusterTraining.openDataPlane(s, config, FaultHooks.NONE);
        closing.add(plane);
        byte[][] keys = io.tributary.protocol.ControlSignatures.newKeyPair();
        TributaryNode node = TributaryNode.start(s, config, t -> List.of(DataPlanePeers.role(plane, "127.0.0.1", t, keys[1])));
        closing.add(node);
        ClusterTraining.start(node, plane, keys, s, config, new LoggingListener(System.out));
        return new PlaneNode(node, plane);
    }

    /** What a stand-in trainer actor at {@code /system/trainer} of a node was told. */
    record Probe(ActorRef<TrainerCommand> ref, BlockingQueue<TrainerCommand> told) {
    }

    static Probe probe(TributaryNode node) {
        BlockingQueue<TrainerCommand> told = new LinkedBlockingQueue<>();
        ActorRef<TrainerCommand> ref = node.system().systemActorOf(Behaviors.receive(TrainerCommand.class)
                .onAnyMessage(m -> {
                    told.add(m);
                    return Behaviors.same();
                }).build(), "trainer", Props.empty());
        return new Probe(ref, told);
    }

    static ActorRef<CoordinatorCommand> coordinatorFrom(TributaryNode node) {
        return ClusterSingleton.get(node.system()).init(SingletonActor.of(Behaviors.<CoordinatorCommand>empty(),
                "training-coordinator").withSettings(ClusterSingletonSettings.create(node.system()).withRole("coordinator")));
    }

    /** A report signed with the TLS key in {@code signedBy}, as a node that caught a liar signs it. */
    static String offenceSignature(Path signedBy, String member, String reporter, String offence)
            throws java.io.IOException {
        long runId = RunSettings.from(trainingConfig(signedBy)).runId();
        return MemberSignatures.sign(TlsMaterial.loadNode(signedBy).key(), MemberSignatures.OFFENCE_LABEL,
                new MemberOffence(member, reporter, offence, "").signedFields(runId));
    }

    static RegisterTrainer registration(TributaryNode named, String endpoint, ActorRef<TrainerCommand> trainer,
                                        Path signedBy) throws java.io.IOException {
        long runId = RunSettings.from(trainingConfig(signedBy)).runId();
        String nodeId = named.address().toString();
        String signature = signedBy == null ? "" : MemberSignatures.sign(TlsMaterial.loadNode(signedBy).key(),
                MemberSignatures.REGISTRATION_LABEL,
                RegisterTrainer.signedFields(runId, nodeId, endpoint, trainer.path().toStringWithoutAddress()));
        return new RegisterTrainer(nodeId, ProtocolRegistry.PROTOCOL_VERSION, "cpu", endpoint, trainer, signature);
    }

    /** Sends {@code r} from {@code from} once a second until {@code outcome} holds (the coordinator may first wait for a certificate). */
    void registerUntil(TributaryNode from, RegisterTrainer r, String what, BooleanSupplier outcome) throws Exception {
        ActorRef<CoordinatorCommand> coordinator = coordinatorFrom(from);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!outcome.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT + " waiting until " + what + "; errors: " + errors());
            }
            coordinator.tell(r);
            Thread.sleep(1000);
        }
    }

    static boolean rejected(Probe p, String... parts) {
        return p.told().stream().anyMatch(m -> m instanceof Rejected rej
                && java.util.Arrays.stream(parts).allMatch(rej.reason()::contains));
    }

    @Test
    void aRegistrationThatIsNotItsNodesWordIsRefusedWithAReason() throws Exception {
        Path seedDir = PKI.node("coordinator");
        Path honestDir = PKI.node("trainer");
        Path attackerDir = PKI.node("trainer");
        PlaneNode seed = coordinatorNode(seedDir);
        PlaneNode honest = planeNode(Set.of("trainer"), honestDir, seed.node());
        PlaneNode attacker = planeNode(Set.of("trainer"), attackerDir, seed.node());
        await("all three Up", () -> TributaryNodeTest.membersUp(seed.node()) == 3);
        Probe honestTrainer = probe(honest.node());
        Probe attackerTrainer = probe(attacker.node());
        Probe seedTrainer = probe(seed.node());
        String honestEndpoint = honest.plane().endpoint();

        // (a) another node's id, from the attacker's own trainer actor
        registerUntil(attacker.node(), registration(honest.node(), honestEndpoint, attackerTrainer.ref(), attackerDir),
                "the id of another node is refused", () -> logged("refused the trainer registration from "
                        + honest.node().address(), "but its trainer actor lives on " + attacker.node().address()));
        // (d) another node's id and trainer actor (a forged sender path), signed with the attacker's key
        ActorRef<TrainerCommand> honestRefSeenByAttacker = ActorRefResolver.get(attacker.node().system())
                .resolveActorRef(ActorRefResolver.get(honest.node().system()).toSerializationFormat(honestTrainer.ref()));
        registerUntil(attacker.node(), registration(honest.node(), honestEndpoint, honestRefSeenByAttacker, attackerDir),
                "a forged signature is refused", () -> logged("refused the trainer registration from "
                        + honest.node().address(), "its signature does not verify against the certificate",
                        "the trainer it names is not told"));
        // (c) its own id with another node's data-plane endpoint
        registerUntil(attacker.node(), registration(attacker.node(), honestEndpoint, attackerTrainer.ref(), attackerDir),
                "another node's endpoint is refused", () -> rejected(attackerTrainer, "registers data-plane endpoint "
                        + honestEndpoint, "but node " + attacker.node().address() + " announced " + attacker.plane().endpoint()));
        // (b) a node whose certificate does not grant the trainer role
        registerUntil(seed.node(), registration(seed.node(), seed.plane().endpoint(), seedTrainer.ref(), seedDir),
                "a node without the trainer role is refused", () -> rejected(seedTrainer, "grants roles [coordinator], not trainer"));

        // the honest node registers, and the forger's attempts in its name never reached its trainer
        registerUntil(honest.node(), registration(honest.node(), honestEndpoint, honestTrainer.ref(), honestDir),
                "the honest trainer is admitted", () -> coordinatorSaid("trainer 0 registered from " + honest.node().address()));
        assertTrue(honestTrainer.told().isEmpty(), "the honest trainer was told nothing: " + honestTrainer.told());
    }

    @Test
    void aQuarantinedTrainersCertificateCannotRegisterAgainFromANewPort() throws Exception {
        Path volunteerDir = PKI.node("trainer");
        Path seedDir = PKI.node("coordinator");
        PlaneNode seed = coordinatorNode(seedDir);
        PlaneNode volunteer = planeNode(Set.of("trainer"), volunteerDir, seed.node());
        Probe trainer = probe(volunteer.node());
        registerUntil(volunteer.node(), registration(volunteer.node(), volunteer.plane().endpoint(), trainer.ref(),
                volunteerDir), "it is admitted", () -> coordinatorSaid("trainer 0 registered from " + volunteer.node().address()));
        String member = volunteer.node().address().toString();
        String reporter = seed.node().address().toString();
        // a report that is not its reporter's word (unsigned, or signed by the accused itself) is ignored
        coordinatorFrom(seed.node()).tell(new MemberOffence(member, reporter, "a made-up offence", ""));
        coordinatorFrom(seed.node()).tell(new MemberOffence(member, reporter, "a made-up offence",
                offenceSignature(volunteerDir, member, reporter, "a made-up offence")));
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!coordinatorSaid("ignored a report that member", "does not verify") && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(coordinatorSaid("ignored a report that member", "a made-up offence"), "the forged reports were ignored");
        assertTrue(trainer.told().isEmpty(), "the accused was told nothing: " + trainer.told());
        coordinatorFrom(seed.node()).tell(new MemberOffence(member, reporter, "lied in a test",
                offenceSignature(seedDir, member, reporter, "lied in a test")));
        awaitDowned(volunteer.node());
        assertTrue(rejected(trainer, "quarantined by the coordinator", "lied in a test"), "told: " + trainer.told());

        // the same certificate, restarted on another port (--port 0)
        PlaneNode again = planeNode(Set.of("trainer"), volunteerDir, seed.node());
        assertTrue(again.node().port() != volunteer.node().port());
        Probe trainerAgain = probe(again.node());
        registerUntil(again.node(), registration(again.node(), again.plane().endpoint(), trainerAgain.ref(), volunteerDir),
                "it is refused", () -> rejected(trainerAgain, "trainer 0", "was quarantined in run",
                        "from any address"));
        assertFalse(coordinatorSaid("trainer 1 registered"), "no new trainer id for the same certificate");
    }

    @Test
    void withTlsOffAnnouncementsAndRegistrationsAreUnsignedButStillChecked() throws Exception {
        PlaneNode seed = coordinatorNode(null);
        PlaneNode volunteer = planeNode(Set.of("trainer"), trainingConfig(null), seed.node());
        await("the seed admits the unsigned announcement", () -> seed.plane().auth().knows(volunteer.plane().endpoint()));
        Probe trainer = probe(volunteer.node());
        registerUntil(volunteer.node(), registration(seed.node(), seed.plane().endpoint(), trainer.ref(), null),
                "another node's id is refused", () -> logged("refused the trainer registration from "
                        + seed.node().address(), "but its trainer actor lives on " + volunteer.node().address()));
        registerUntil(volunteer.node(), registration(volunteer.node(), seed.plane().endpoint(), trainer.ref(), null),
                "another node's endpoint is refused", () -> logged("refused the trainer registration from "
                        + volunteer.node().address(), "registers data-plane endpoint " + seed.plane().endpoint()));
        registerUntil(volunteer.node(), registration(volunteer.node(), volunteer.plane().endpoint(), trainer.ref(), null),
                "its own unsigned registration is admitted, keyed on its address",
                () -> coordinatorSaid("trainer 0 registered from " + volunteer.node().address() + " as "
                        + volunteer.node().address()));
    }

    boolean coordinatorSaid(String... parts) {
        return logged(parts);
    }

    /**
     * Waits until {@code node} stops on its own account (downed, told why): its shutdown has a reason. How long the
     * rest of its actor system's termination takes is not what these tests check.
     */
    void awaitDowned(TributaryNode node) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (node.failure().isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("member " + node.address() + " was not downed within " + WAIT + "; errors: "
                        + errors());
            }
            Thread.sleep(50);
        }
        // the Down can reach it before the refusal that says why (AdmissionDenied): give that a moment to arrive
        long told = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
        while (node.failure().orElse("").startsWith("this node was downed by the cluster")
                && System.nanoTime() < told) {
            Thread.sleep(50);
        }
    }

    static boolean knowsMember(TributaryNode observer, TributaryNode other) {
        for (org.apache.pekko.cluster.Member m : org.apache.pekko.cluster.typed.Cluster.get(observer.system()).state()
                .getMembers()) {
            if (m.address().equals(other.address())) {
                return true;
            }
        }
        return false;
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        TributaryNodeTest.await(what, WAIT, condition);
    }

    boolean logged(String... parts) {
        return snapshot().stream().map(ILoggingEvent::getFormattedMessage).anyMatch(m -> {
            for (String p : parts) {
                if (!m.contains(p)) {
                    return false;
                }
            }
            return true;
        });
    }

    List<String> errors() {
        return snapshot().stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.ERROR)
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    private List<ILoggingEvent> snapshot() {
        synchronized (logs) {
            return new java.util.ArrayList<>(logs.list);
        }
    }
}
