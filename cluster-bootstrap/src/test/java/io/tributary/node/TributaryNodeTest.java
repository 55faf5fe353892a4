package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.tributary.config.ConfigLoader;
import io.tributary.protocol.ProtocolRegistry;
import io.tributary.tls.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

class TributaryNodeTest {

    private static final Duration FORMATION_TIMEOUT = Duration.ofSeconds(40);

    private static final TestPki PKI = new TestPki("node-test");

    /** A node's config: mutual TLS (the default) with a fresh certificate granting ps and trainer. */
    static Config config() {
        return ConfigLoader.load(null, Map.of("tributary.tls.dir", PKI.node("ps", "trainer").toString()));
    }

    private static NodeSettings settings(int port, List<NodeSettings.HostPort> seeds, int metricsPort) {
        return new NodeSettings(Set.of("ps", "trainer"), "127.0.0.1", port, seeds, metricsPort);
    }

    private static NodeSettings.HostPort seed(TributaryNode node) {
        return new NodeSettings.HostPort("127.0.0.1", node.port());
    }

    static long membersUp(TributaryNode node) {
        long up = 0;
        for (Member m : Cluster.get(node.system()).state().getMembers()) {
            if (m.status().equals(MemberStatus.up())) {
                up++;
            }
        }
        return up;
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting until " + what);
            }
            Thread.sleep(100);
        }
    }

    static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void twoNodesOnLoopbackFormAClusterAndServeJvmMetrics() throws Exception {
        try (TributaryNode first = TributaryNode.start(settings(0, List.of(), 0), config());
             TributaryNode second = TributaryNode.start(settings(0, List.of(seed(first)), 0), config())) {
            await("both nodes see 2 members Up", FORMATION_TIMEOUT, () -> membersUp(first) == 2 && membersUp(second) == 2);

            Member self = Cluster.get(second.system()).selfMember();
            assertTrue(self.getRoles().containsAll(Set.of("ps", "trainer", "proto-" + ProtocolRegistry.PROTOCOL_VERSION)),
                    "roles " + self.getRoles());
            Config effective = first.system().settings().config();
            assertEquals("io.tributary.protocol.TributaryDowningProvider",
                    effective.getString("pekko.cluster.downing-provider-class"));
            assertEquals("tls-tcp", effective.getString("pekko.remote.artery.transport"));

            await("metrics show 2 members Up", FORMATION_TIMEOUT, () -> {
                try {
                    return get(first.metricsPort(), "/metrics").body().contains("tributary_cluster_members_up 2.0");
                } catch (IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return true;
                }
            });
            HttpResponse<String> metrics = get(second.metricsPort(), "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("jvm_memory_used_bytes"), "no jvm_ metrics");
            assertTrue(metrics.body().contains("tributary_cluster_member_events_total{event=\"up\"}"), "no member events");
        }
    }

    @Test
    void badSeedAddressFailsWithOneLineNamingTheExpectedForm() {
        Config config = ConfigLoader.load(null, Map.of("tributary.node.seed-nodes", "[\"seed.example:port\"]"));
        NodeStartException e = assertThrows(NodeStartException.class, () -> NodeSettings.from(config));
        assertEquals("seed node 'seed.example:port' is not host:port: give it as host:port with a port in 1..65535,"
                + " e.g. --join 127.0.0.1:25520", e.getMessage());
        assertThrows(NodeStartException.class, () -> NodeSettings.HostPort.parse("127.0.0.1", "seed node"));
        assertEquals(new NodeSettings.HostPort("::1", 25520), NodeSettings.HostPort.parse("[::1]:25520", "seed node"));
    }

    @Test
    void portAlreadyInUseFailsWithOneLineNamingThePortAndTheFlag() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            NodeStartException e = assertThrows(NodeStartException.class,
                    () -> TributaryNode.start(settings(port, List.of(), 0), config()).close());
            assertEquals("port " + port + " on 127.0.0.1 is already in use: pick another with --port, or 0 for a free one",
                    e.getMessage());
        }
    }

    @Test
    void metricsPortInUseFailsWithOneLineNamingThePortAndTheFlag() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            NodeStartException e = assertThrows(NodeStartException.class,
                    () -> TributaryNode.start(settings(0, List.of(), port), config()).close());
            assertTrue(e.getMessage().startsWith("metrics port " + port + " on 127.0.0.1 is not free"), e.getMessage());
            assertTrue(e.getMessage().endsWith("pick another with --metrics-port, or 0 for a free one"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void nodeOfAnotherProtocolVersionLeavesTheClusterByItself() throws Exception {
        try (TributaryNode cluster = TributaryNode.start(settings(0, List.of(), 0), config())) {
            await("the first node is Up", FORMATION_TIMEOUT, () -> membersUp(cluster) == 1);
            TributaryNode newer = TributaryNode.start(settings(0, List.of(seed(cluster)), 0), config(),
                    ProtocolRegistry.PROTOCOL_VERSION + 1);
            try {
                newer.whenTerminated().toCompletableFuture().get(FORMATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                String failure = newer.failure().orElseThrow();
                assertTrue(failure.contains("protocol version " + (ProtocolRegistry.PROTOCOL_VERSION + 1)), failure);
                await("the mismatched node is removed", FORMATION_TIMEOUT, () -> membersUp(cluster) == 1
                        && Cluster.get(cluster.system()).state().members().size() == 1);
                assertTrue(cluster.failure().isEmpty());
                assertFalse(cluster.system().whenTerminated().isCompleted());
            } finally {
                newer.close();
            }
        }
    }

    @Test
    void nodeCommandReportsBadFlagsInOneLine() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, NodeCommand.run(List.of("--join", "nohost"), o, e));
        assertEquals("tributary: error: seed node 'nohost' is not host:port: give it as host:port with a port in"
                + " 1..65535, e.g. --join 127.0.0.1:25520\n", err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, NodeCommand.run(List.of("--roles", "ps,gpu"), o, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown role 'gpu'"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, NodeCommand.run(List.of("--set", "tributary.node.prot=1"), o, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown config key 'tributary.node.prot'"),
                err.toString(StandardCharsets.UTF_8));
        assertEquals(0, NodeCommand.run(List.of("--help"), o, e));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--join=HOST:PORT"));
    }
}
