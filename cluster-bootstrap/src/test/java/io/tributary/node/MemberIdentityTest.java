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
 * member's data-plane announcement counts only when its certificate's key signed it.
 */
class MemberIdentityTest {

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
    }

    @AfterEach
    void release() throws Exception {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
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
        Config config = tls(tlsDir);
        NodeSettings s = settings(roles, seed);
        NodeDataPlane plane = ClusterTraining.openDataPlane(s, config, FaultHooks.NONE);
        closing.add(plane);
        TributaryNode node = TributaryNode.start(s, config, t -> List.of(DataPlanePeers.role(plane, "127.0.0.1", t)));
        closing.add(node);
        DataPlanePeers.follow(node.system(), plane, new ConcurrentHashMap<>(), node.tls());
        return new PlaneNode(node, plane);
    }

    /** A node that publishes {@code role} as its data-plane announcement, whatever it says. */
    TributaryNode announcing(Path tlsDir, TributaryNode seed, String role) {
        TributaryNode node = TributaryNode.start(settings(Set.of("trainer"), seed), tls(tlsDir), t -> List.of(role));
        closing.add(node);
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
        String forged = DataPlanePeers.ROLE_PREFIX + endpoint + "|" + key + "|"
                + MemberSignatures.sign(other.key(), MemberSignatures.DATA_PLANE_LABEL, "127.0.0.1", endpoint, key);
        TributaryNode liar = announcing(PKI.node("trainer"), seed.node(), forged);
        awaitDowned(liar);
        assertTrue(logged("member " + liar.address(), "with a signature its certificate", "did not make", "downing it"),
                "the seed names the liar: " + errors());
        assertFalse(seed.plane().auth().knows(endpoint), "the forged endpoint's key never entered the data plane");
        assertTrue(liar.failure().orElseThrow().contains("did not make"), liar.failure().orElseThrow());
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
        String stolen = DataPlanePeers.ROLE_PREFIX + endpoint + "|" + key + "|"
                + MemberSignatures.sign(liarTls.key(), MemberSignatures.DATA_PLANE_LABEL, "127.0.0.1", endpoint, key);
        TributaryNode liar = announcing(liarDir, seed.node(), stolen);
        awaitDowned(liar);
        assertTrue(logged("member " + liar.address(), "announces data-plane endpoint " + endpoint,
                        "of another certificate announced first", "downing it"), "the seed names the liar: " + errors());
        assertTrue(seed.plane().auth().knows(endpoint), "the honest member keeps its endpoint");
    }

    void awaitDowned(TributaryNode node) throws Exception {
        try {
            node.whenTerminated().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("member " + node.address() + " was not downed within " + WAIT + "; errors: "
                    + errors(), e);
        }
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
