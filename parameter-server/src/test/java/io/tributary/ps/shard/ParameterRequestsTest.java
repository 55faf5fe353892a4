package io.tributary.ps.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tributary.dataplane.DataPlaneMetrics;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.ShardProtocol.ShardReply;
import io.tributary.protocol.TrainerProtocol.ParamsSent;
import io.tributary.wire.DataPlane;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ParameterRequestsTest {

    private static final ActorTestKit KIT = ActorTestKit.create();

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    @Test
    void aRequestNamingAnEndpointThatIsNotHostPortIsDroppedAndTheOthersAreServed() throws InterruptedException {
        int n = 1000;
        try (NodeDataPlane plane = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0,
                new ShardLayout(n, 1), Duration.ofSeconds(5))) {
            PrometheusRegistry registry = new PrometheusRegistry();
            List<RequestParams> sentTo = new ArrayList<>();
            BlockingQueue<ShardSignals.PublicationOpened> opened = new LinkedBlockingQueue<>();
            ParameterRequests requests = new ParameterRequests(0, plane, new float[n],
                    new ShardMetrics(registry, new DataPlaneMetrics(registry)), LoggerFactory.getLogger("test"),
                    sentTo::add, opened::add);
            TestProbe<ShardReply> bad = KIT.createTestProbe();
            TestProbe<ShardReply> good = KIT.createTestProbe();
            requests.queue(new RequestParams(1, "no-port-here", 3, bad.getRef()));
            requests.queue(new RequestParams(2, plane.endpoint(), 3, good.getRef()));
            requests.queue(new RequestParams(3, plane.endpoint(), 9, good.getRef())); // waits for version 9
            requests.serve(3);
            assertEquals(2, requests.parked(), "both endpoints are new: their publications open off this thread");
            for (int i = 0; i < 2; i++) {
                ShardSignals.PublicationOpened o = opened.poll(10, TimeUnit.SECONDS);
                assertNotNull(o, "the data plane did not say it opened (or failed to open) a publication");
                assertEquals(o.endpoint().equals("no-port-here"), o.failure() != null, o.toString());
                requests.opened(o, 3);
            }
            assertEquals(0, requests.parked());
            ParamsSent sent = good.expectMessageClass(ParamsSent.class, Duration.ofSeconds(10));
            assertEquals(3, sent.version());
            bad.expectNoMessage(Duration.ofMillis(200));
            assertEquals(1, sentTo.size(), "only the good request was sent");
            assertEquals(1, requests.waiting().size(), "the request for version 9 still waits");
            requests.serve(3);
            good.expectNoMessage(Duration.ofMillis(200)); // nothing sent twice
            assertTrue(requests.waiting().get(0).minVersion() == 9);
        }
    }

    /**
     * Opening a publication to a new endpoint nobody receives at waits up to the send timeout for a
     * connection (and, with authentication, as long again for its key): that must never happen on
     * the shard's actor thread. The request is parked, the caller returns at once, and when the
     * data plane has opened the publication the request goes on (and is skipped: nobody receives).
     */
    @Test
    void aRequestToANewEndpointNeverBlocksTheCallerWhileItsPublicationOpens() throws InterruptedException {
        int n = 1000;
        Duration sendTimeout = Duration.ofSeconds(3);
        String deadEndpoint;
        try (NodeDataPlane gone = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0,
                new ShardLayout(n, 1), sendTimeout)) {
            deadEndpoint = gone.endpoint();
        }
        try (NodeDataPlane plane = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0,
                new ShardLayout(n, 1), sendTimeout)) {
            PrometheusRegistry registry = new PrometheusRegistry();
            List<RequestParams> sentTo = new ArrayList<>();
            BlockingQueue<ShardSignals.PublicationOpened> opened = new LinkedBlockingQueue<>();
            ParameterRequests requests = new ParameterRequests(0, plane, new float[n],
                    new ShardMetrics(registry, new DataPlaneMetrics(registry)), LoggerFactory.getLogger("test"),
                    sentTo::add, opened::add);
            TestProbe<ShardReply> dead = KIT.createTestProbe();
            long t0 = System.nanoTime();
            requests.send(new RequestParams(1, deadEndpoint, 0, dead.getRef()), 0);
            requests.send(new RequestParams(2, deadEndpoint, 0, dead.getRef()), 0);
            long tookMillis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(tookMillis < sendTimeout.toMillis() / 3, "sending to a new endpoint held the caller for "
                    + tookMillis + " ms (send timeout " + sendTimeout.toMillis() + " ms)");
            assertEquals(2, requests.parked());
            ShardSignals.PublicationOpened o = opened.poll(sendTimeout.toSeconds() + 10, TimeUnit.SECONDS);
            assertNotNull(o, "the data plane did not say it opened the publication");
            assertEquals(deadEndpoint, o.endpoint());
            assertNull(opened.poll(200, TimeUnit.MILLISECONDS), "one open for both requests to that endpoint");
            requests.opened(o, 0);
            assertEquals(0, requests.parked());
            dead.expectNoMessage(Duration.ofMillis(200)); // nobody receives there: skipped, said in the log
            assertEquals(List.of(), sentTo);
        }
    }
}
