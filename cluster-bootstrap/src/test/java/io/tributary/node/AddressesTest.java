package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.tributary.config.ConfigLoader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Issue 18, addresses and ports: fixed default ports an operator can open ahead (25520 Pekko, 25521 data plane,
 * 25522 metrics), a listening address apart from the advertised one, a safe MTU off loopback, and a warning for a
 * node that advertises loopback while joining another machine. The expected values are the documented ones.
 */
class AddressesTest {

    private static Config config(Map<String, String> overrides) {
        return ConfigLoader.load(null, overrides);
    }

    @Test
    void theDefaultsAreThreeFixedPortsAndLoopback() {
        Config c = config(Map.of());
        NodeSettings node = NodeSettings.from(c);
        assertEquals(25520, node.port());
        assertEquals(25522, node.resolvedMetricsPort());
        assertEquals(25521, node.resolvedDataPlanePort(RunSettings.from(c).dataPlane().port()));
        assertEquals("127.0.0.1", node.listenHost());
        assertEquals(65504, RunSettings.from(c).dataPlane().mtuFor(node), "one machine: 64 KiB datagrams");
    }

    @Test
    void portZeroMakesEveryDerivedPortAFreeOneAndExplicitPortsWin() {
        Config free = config(Map.of("tributary.node.port", "0"));
        NodeSettings node = NodeSettings.from(free);
        assertEquals(0, node.resolvedMetricsPort());
        assertEquals(0, node.resolvedDataPlanePort(RunSettings.from(free).dataPlane().port()));

        Config set = config(Map.of("tributary.node.port", "7000", "tributary.node.metrics-port", "9100",
                "tributary.data-plane.port", "7777"));
        NodeSettings explicit = NodeSettings.from(set);
        assertEquals(9100, explicit.resolvedMetricsPort());
        assertEquals(7777, explicit.resolvedDataPlanePort(RunSettings.from(set).dataPlane().port()));
        assertEquals(7001, NodeSettings.from(config(Map.of("tributary.node.port", "7000")))
                .resolvedDataPlanePort(NodeSettings.AUTO));
    }

    @Test
    void offLoopbackTheMtuFitsEthernetAndAJumboNetworkMaySetItsOwn() {
        Config c = config(Map.of("tributary.node.host", "10.0.0.5", "tributary.node.seed-nodes", "[\"10.0.0.1:25520\"]"));
        assertEquals(1408, RunSettings.from(c).dataPlane().mtuFor(NodeSettings.from(c)));
        Config loopSeedElsewhere = config(Map.of("tributary.node.seed-nodes", "[\"10.0.0.1:25520\"]"));
        assertEquals(1408, RunSettings.from(loopSeedElsewhere).dataPlane().mtuFor(NodeSettings.from(loopSeedElsewhere)));
        Config jumbo = config(Map.of("tributary.node.host", "10.0.0.5", "tributary.data-plane.mtu", "8992"));
        assertEquals(8992, RunSettings.from(jumbo).dataPlane().mtuFor(NodeSettings.from(jumbo)));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> RunSettings.from(config(Map.of("tributary.data-plane.mtu", "1500"))));
        assertTrue(bad.getMessage().contains("multiple of 32"), bad.getMessage());
    }

    @Test
    void aNodeThatAdvertisesLoopbackButJoinsAnotherMachineIsWarned() {
        NodeSettings lonely = new NodeSettings(Set.of("trainer"), "127.0.0.1", 0,
                List.of(new NodeSettings.HostPort("192.168.1.10", 25520)), 0);
        String warning = lonely.loopbackWarning().orElseThrow();
        assertTrue(warning.contains("advertises the loopback address 127.0.0.1 but joins 192.168.1.10:25520")
                && warning.contains("--host"), warning);
        assertTrue(new NodeSettings(Set.of("trainer"), "127.0.0.1", 0,
                List.of(new NodeSettings.HostPort("127.0.0.1", 25520)), 0).loopbackWarning().isEmpty());
        assertTrue(new NodeSettings(Set.of("trainer"), "192.168.1.11", 0,
                List.of(new NodeSettings.HostPort("192.168.1.10", 25520)), 0).loopbackWarning().isEmpty());
    }

    @Test
    void badPortsAreRefusedInOneLine() {
        NodeStartException e = assertThrows(NodeStartException.class,
                () -> NodeSettings.from(config(Map.of("tributary.node.metrics-port", "lots"))));
        assertTrue(e.getMessage().contains("tributary.node.metrics-port is 'lots'"), e.getMessage());
        NodeStartException high = assertThrows(NodeStartException.class,
                () -> NodeSettings.from(config(Map.of("tributary.node.port", "65535"))));
        assertTrue(high.getMessage().contains("metrics-port is auto"), high.getMessage());
    }

    /**
     * A node that listens on every interface (0.0.0.0, as in a container) but advertises 127.0.0.1: a second node
     * joins it at the advertised address, and its metrics answer there.
     */
    @Test
    void aNodeListeningOnEveryInterfaceIsReachedAtItsAdvertisedAddress() throws Exception {
        NodeSettings listening = new NodeSettings(Set.of("ps", "trainer"), "127.0.0.1", 0, List.of(), 0, "0.0.0.0",
                NodeSettings.AUTO, NodeSettings.DEFAULT_JOIN_TIMEOUT);
        try (TributaryNode first = TributaryNode.start(listening, TributaryNodeTest.config())) {
            assertEquals("0.0.0.0", first.system().settings().config().getString("pekko.remote.artery.bind.hostname"));
            assertEquals("127.0.0.1", first.address().getHost().orElse(""));
            NodeSettings joiner = new NodeSettings(Set.of("ps", "trainer"), "127.0.0.1", 0,
                    List.of(new NodeSettings.HostPort("127.0.0.1", first.port())), 0);
            try (TributaryNode second = TributaryNode.start(joiner, TributaryNodeTest.config())) {
                TributaryNodeTest.await("both nodes see 2 members Up", Duration.ofSeconds(40),
                        () -> TributaryNodeTest.membersUp(first) == 2 && TributaryNodeTest.membersUp(second) == 2);
            }
            assertEquals(200, TributaryNodeTest.get(first.metricsPort(), "/metrics").statusCode());
        }
    }

    /**
     * A volunteer the cluster cannot reach back (as behind NAT: it dials out, but its advertised address leads
     * nowhere) is never admitted; after the join time-out it stops with one line that says what to open. On
     * loopback: it listens on 127.0.0.1 but advertises 127.0.0.9, where nothing listens.
     */
    @Test
    void aNodeTheClusterCannotReachBackStopsWithOneLineSayingWhatToOpen() throws Exception {
        try (TributaryNode seed = TributaryNode.start(new NodeSettings(Set.of("ps", "trainer"), "127.0.0.1", 0,
                List.of(), 0), TributaryNodeTest.config())) {
            int port = freePort();
            NodeSettings natted = new NodeSettings(Set.of("trainer"), "127.0.0.9", port,
                    List.of(new NodeSettings.HostPort("127.0.0.1", seed.port())), 0, "127.0.0.1", port,
                    Duration.ofSeconds(5));
            TributaryNode volunteer = TributaryNode.start(natted, TributaryNodeTest.config());
            try {
                // its shutdown starts with the reason; how long the rest of a shutdown takes is not the point here
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (volunteer.failure().isEmpty()) {
                    assertTrue(System.nanoTime() < deadline, "it stopped by itself within 60 s");
                    Thread.sleep(100);
                }
                String line = volunteer.failure().orElseThrow();
                assertTrue(line.startsWith("no seed admitted this node within 5 s of joining [127.0.0.1:" + seed.port()
                        + "]") && line.contains("cannot reach this node back at 127.0.0.9:" + port + " (TCP)")
                        && line.contains("behind NAT, forward both"), line);
                assertEquals(1, TributaryNodeTest.membersUp(seed), "the seed never admitted it");
            } finally {
                volunteer.close();
            }
        }
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
