package io.tributary.ps.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void aRequestNamingAnEndpointThatIsNotHostPortIsDroppedAndTheOthersAreServed() {
        int n = 1000;
        try (NodeDataPlane plane = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0,
                new ShardLayout(n, 1), Duration.ofSeconds(5))) {
            PrometheusRegistry registry = new PrometheusRegistry();
            List<RequestParams> sentTo = new ArrayList<>();
            ParameterRequests requests = new ParameterRequests(0, plane, new float[n],
                    new ShardMetrics(registry, new DataPlaneMetrics(registry)), LoggerFactory.getLogger("test"),
                    sentTo::add);
            TestProbe<ShardReply> bad = KIT.createTestProbe();
            TestProbe<ShardReply> good = KIT.createTestProbe();
            requests.queue(new RequestParams(1, "no-port-here", 3, bad.getRef()));
            requests.queue(new RequestParams(2, plane.endpoint(), 3, good.getRef()));
            requests.queue(new RequestParams(3, plane.endpoint(), 9, good.getRef())); // waits for version 9
            requests.serve(3);
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
}
