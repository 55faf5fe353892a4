package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.Config;
import io.tributary.config.ConfigLoader;
import io.tributary.tls.ClusterCertificates;
import io.tributary.tls.RevocationList;
import io.tributary.tls.TlsMaterial;
import io.tributary.tls.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Who may join a cluster that runs mutual TLS: real nodes on 127.0.0.1, a real CA. A node without
 * a certificate (plain TCP), with one from another CA, with an expired one, or claiming a role its
 * certificate does not grant does not become a member, and the refusing side logs why.
 */
class MutualTlsTest {

    private static final TestPki PKI = new TestPki("cluster");
    private static final Duration JOIN = Duration.ofSeconds(40);
    /** How long a refused node is given to (wrongly) get in. */
    private static final Duration REFUSAL_WINDOW = Duration.ofSeconds(12);

    private ListAppender<ILoggingEvent> logs;
    private ch.qos.logback.classic.Level level;
    private ch.qos.logback.core.Appender<ILoggingEvent> console;

    /** Captures every log line at INFO and above (the console keeps its own level: WARN in tests). */
    @BeforeEach
    void captureLogs() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);
        level = root.getLevel();
        console = root.getAppender("STDERR");
        if (console != null) {
            ch.qos.logback.classic.filter.ThresholdFilter warn = new ch.qos.logback.classic.filter.ThresholdFilter();
            warn.setLevel(level.toString());
            warn.start();
            console.addFilter(warn);
        }
        root.setLevel(ch.qos.logback.classic.Level.INFO);
    }

    @AfterEach
    void releaseLogs() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAppender(logs);
        root.setLevel(level);
        if (console != null) {
            console.clearAllFilters();
        }
        TributaryNode.skipOwnChecks = false;
    }

    private static Config tls(Path dir) {
        return ConfigLoader.load(null, Map.of("tributary.tls.dir", dir.toString()));
    }

    private static NodeSettings settings(Set<String> roles, TributaryNode seed) {
        return new NodeSettings(roles, "127.0.0.1", 0,
                seed == null ? List.of() : List.of(new NodeSettings.HostPort("127.0.0.1", seed.port())), 0);
    }

    private static long up(TributaryNode node) {
        return TributaryNodeTest.membersUp(node);
    }

    private static boolean isMember(TributaryNode cluster, TributaryNode other) {
        for (Member m : Cluster.get(cluster.system()).state().getMembers()) {
            if (m.address().equals(other.address()) && !m.status().equals(MemberStatus.down())
                    && !m.status().equals(MemberStatus.removed())) {
                return true;
            }
        }
        return false;
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        TributaryNodeTest.await(what, timeout, condition);
    }

    private boolean logged(String... parts) {
        return snapshot().stream().map(ILoggingEvent::getFormattedMessage).anyMatch(m -> {
            for (String p : parts) {
                if (!m.contains(p)) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Starts {@code joiner} against a fresh one-node cluster and checks it stays out for the refusal window. */
    private void assertCannotJoin(TributaryNode cluster, TributaryNode joiner) throws InterruptedException {
        long end = System.nanoTime() + REFUSAL_WINDOW.toNanos();
        while (System.nanoTime() < end) {
            for (Member m : Cluster.get(cluster.system()).state().getMembers()) {
                assertTrue(!m.address().equals(joiner.address()) || !m.status().equals(MemberStatus.up()),
                        "the refused node became a member");
            }
            Thread.sleep(200);
        }
        assertEquals(1, up(cluster), "only the seed is Up");
    }

    @Test
    void aNodeWithACertificateOfTheClusterJoinsAndItsRolesAreChecked() throws Exception {
        try (TributaryNode seed = TributaryNode.start(settings(Set.of("coordinator"), null), tls(PKI.node("coordinator")));
             TributaryNode ok = TributaryNode.start(settings(Set.of("trainer"), seed), tls(PKI.node("trainer")))) {
            await("both Up", JOIN, () -> up(seed) == 2 && up(ok) == 2);
            await("the seed checked the trainer's roles", JOIN, () -> logged("holds roles [trainer]", "CN=node-"));
        }
    }

    @Test
    void aNodeWithoutACertificateOrWithOneOfAnotherCaCannotJoin() throws Exception {
        TestPki otherCa = new TestPki("other");
        try (TributaryNode seed = TributaryNode.start(settings(Set.of("coordinator"), null), tls(PKI.node("coordinator")))) {
            await("the seed is Up", JOIN, () -> up(seed) == 1);
            try (TributaryNode foreign = TributaryNode.start(settings(Set.of("trainer"), seed), tls(otherCa.node("trainer")))) {
                assertCannotJoin(seed, foreign);
                // TLS 1.3: the joining node checks the seed's certificate first, refuses it and aborts, so it is
                // the one that logs the refusal (the seed sees the alert)
                assertTrue(logged("refused the certificate", "unable to find valid certification path"),
                        "the refusal is logged: " + messages());
            }
            Config plain = ConfigLoader.load(null, Map.of("tributary.tls.enabled", "off"));
            try (TributaryNode noCert = TributaryNode.start(settings(Set.of("trainer"), seed), plain)) {
                assertCannotJoin(seed, noCert);
            }
        }
    }

    @Test
    void aNodeWithAnExpiredCertificateRefusesToStartAndIsRefusedWhenItTries() throws Exception {
        Instant now = Instant.now();
        Path expired = PKI.node(now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)), "trainer");
        NodeStartException own = assertThrows(NodeStartException.class,
                () -> TributaryNode.start(settings(Set.of("trainer"), null), tls(expired)).close());
        assertTrue(own.getMessage().contains("expired on"), own.getMessage());
        try (TributaryNode seed = TributaryNode.start(settings(Set.of("coordinator"), null), tls(PKI.node("coordinator")))) {
            await("the seed is Up", JOIN, () -> up(seed) == 1);
            TributaryNode.skipOwnChecks = true; // a node that ignores its own dates
            try (TributaryNode old = TributaryNode.start(settings(Set.of("trainer"), seed), tls(expired))) {
                TributaryNode.skipOwnChecks = false;
                assertCannotJoin(seed, old);
                assertTrue(logged("refused the certificate of an inbound connection", "(EXPIRED)"),
                        "the seed logs why: " + messages());
            }
        }
    }

    @Test
    void aNodeClaimingARoleItsCertificateDoesNotGrantIsRefusedAndBothSidesSayWhy() throws Exception {
        Path trainerOnly = PKI.node("trainer");
        NodeStartException own = assertThrows(NodeStartException.class,
                () -> TributaryNode.start(settings(Set.of("ps"), null), tls(trainerOnly)).close());
        assertTrue(own.getMessage().contains("grants only [trainer]"), own.getMessage());
        try (TributaryNode seed = TributaryNode.start(settings(Set.of("coordinator"), null), tls(PKI.node("coordinator")))) {
            await("the seed is Up", JOIN, () -> up(seed) == 1);
            TributaryNode.skipOwnChecks = true; // a modified node that claims ps anyway
            try (TributaryNode liar = TributaryNode.start(settings(Set.of("ps", "trainer"), seed), tls(trainerOnly))) {
                TributaryNode.skipOwnChecks = false;
                try {
                    liar.whenTerminated().toCompletableFuture().get(JOIN.toSeconds(), TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new AssertionError("the refused node did not stop within " + JOIN + "; the log said: "
                            + snapshot().stream().map(ILoggingEvent::getFormattedMessage)
                            .filter(m -> m.contains("roles") || m.contains("refused") || m.contains("down")).toList(), e);
                }
                await("the seed logs the refusal", JOIN, () -> logged("claims roles [ps, trainer]", "grants only [trainer]",
                        "downing it"));
                String failure = liar.failure().orElseThrow();
                assertTrue(failure.contains("refused by the cluster") && failure.contains("grants only [trainer]"), failure);
                assertTrue(logged("this node was refused by"), "the refused node logs why: " + messages());
                await("it is removed", JOIN, () -> !isMember(seed, liar));
                assertEquals(1, up(seed));
            }
        }
    }

    @Test
    void aRevokedCertificateIsDownedWithinSecondsAndCannotComeBack() throws Exception {
        TestPki pki = new TestPki("revoking");
        Path seedDir = pki.node("coordinator");
        Path trainerDir = pki.node("trainer");
        try (TributaryNode seed = TributaryNode.start(settings(Set.of("coordinator"), null), tls(seedDir))) {
            try (TributaryNode trainer = TributaryNode.start(settings(Set.of("trainer"), seed), tls(trainerDir))) {
                await("both Up", JOIN, () -> up(seed) == 2 && up(trainer) == 2);
                await("the seed has the trainer's certificate", JOIN, () -> logged("holds roles [trainer]"));
                ClusterCertificates.revoke(pki.caDir(), trainerDir.resolve(ClusterCertificates.NODE_CERT), "lost laptop");
                // the operator copies the list into the seed's TLS folder; the seed reads it again by itself
                Files.copy(pki.caDir().resolve(RevocationList.FILE), seedDir.resolve(RevocationList.FILE));
                await("the seed downs it and says why", JOIN,
                        () -> logged("which the cluster's operator revoked", "lost laptop", "downing it"));
                await("it is out", JOIN, () -> !isMember(seed, trainer));
                // the downed node is told why; it is cut off (every handshake with its certificate is refused)
                await("the revoked node is told", JOIN, () -> logged("this node was refused by", "revoked"));
            }
            Files.copy(pki.caDir().resolve(RevocationList.FILE), trainerDir.resolve(RevocationList.FILE));
            NodeStartException own = assertThrows(NodeStartException.class,
                    () -> TributaryNode.start(settings(Set.of("trainer"), seed), tls(trainerDir)).close());
            assertTrue(own.getMessage().contains("is revoked by the cluster's operator"), own.getMessage());
            TributaryNode.skipOwnChecks = true; // a node that ignores its own list
            try (TributaryNode again = TributaryNode.start(settings(Set.of("trainer"), seed), tls(trainerDir))) {
                TributaryNode.skipOwnChecks = false;
                assertCannotJoin(seed, again);
                assertTrue(logged("refused the certificate of an inbound connection", "revoked"), "the seed logs why: "
                        + messages());
            }
        }
    }

    /**
     * The operator publishes a revocation at one node's metrics endpoint (what {@code tributary certs publish}
     * does): the CA-signed list reaches the other member through the cluster, which installs it and downs
     * the revoked member, with no file copied by hand; a list whose signature does not verify is refused.
     */
    @Test
    void aRevocationPublishedAtOneNodeReachesEveryMemberAndTheRevokedOneIsDowned() throws Exception {
        TestPki pki = new TestPki("publishing");
        Path seedDir = pki.node("coordinator");
        Path psDir = pki.node("ps");
        Path trainerDir = pki.node("trainer");
        try (TributaryNode seed = TributaryNode.start(settings(Set.of("coordinator"), null), tls(seedDir));
             TributaryNode ps = TributaryNode.start(settings(Set.of("ps"), seed), tls(psDir));
             TributaryNode trainer = TributaryNode.start(settings(Set.of("trainer"), seed), tls(trainerDir))) {
            await("all Up", JOIN, () -> up(seed) == 3 && up(ps) == 3 && up(trainer) == 3);
            java.security.cert.X509Certificate revoked = TlsMaterial.loadNode(trainerDir).certificate();
            ClusterCertificates.revoke(pki.caDir(), trainerDir.resolve(ClusterCertificates.NODE_CERT), "stolen");
            io.tributary.tls.SignedRevocations.Update update = io.tributary.tls.SignedRevocations.read(pki.caDir());
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            java.net.URI at = java.net.URI.create("http://127.0.0.1:" + seed.metricsPort() + "/revocations");
            String forged = update.list() + "ffff  CN=extra\n";
            java.net.http.HttpResponse<String> refused = http.send(java.net.http.HttpRequest.newBuilder(at)
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(update.signature() + "\n" + forged)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(400, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("signature does not verify"), refused.body());
            assertTrue(Files.notExists(psDir.resolve(RevocationList.FILE)), "nothing reached the ps node");
            java.net.http.HttpResponse<String> taken = http.send(java.net.http.HttpRequest.newBuilder(at)
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(update.signature() + "\n" + update.list()))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, taken.statusCode(), taken.body());
            assertTrue(taken.body().contains("sent to 2 other member(s)"), taken.body());
            await("the ps node installed the list it got through the cluster", JOIN,
                    () -> Files.isRegularFile(psDir.resolve(RevocationList.FILE)));
            assertTrue(RevocationList.load(psDir).reason(revoked).isPresent(), "the ps node's list revokes it");
            await("the revoked member is downed", JOIN, () -> !isMember(seed, trainer) && !isMember(ps, trainer));
            assertTrue(logged("which the cluster's operator revoked", "stolen"), messages());
        }
    }

    /** The events so far: the appender adds under its own lock (AppenderBase.doAppend), from other threads. */
    private java.util.List<ILoggingEvent> snapshot() {
        synchronized (logs) {
            return new java.util.ArrayList<>(logs.list);
        }
    }

    private String messages() {
        return snapshot().stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("TLS") || m.contains("refused"))
                .toList().toString();
    }
}
