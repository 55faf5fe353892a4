package io.tributary.ps.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tributary.ps.node.ContributionSlots;
import io.tributary.ps.node.NodeDataPlane;
import io.tributary.ps.node.ParameterAssembler;
import io.tributary.ps.node.TrainingMetrics;
import io.tributary.ps.protocol.TrainingProtocol.CoordinatorCommand;
import io.tributary.ps.protocol.TrainingProtocol.ParamsSent;
import io.tributary.ps.protocol.TrainingProtocol.RequestParams;
import io.tributary.ps.protocol.TrainingProtocol.SetQuorum;
import io.tributary.ps.protocol.TrainingProtocol.ShardCommand;
import io.tributary.ps.protocol.TrainingProtocol.ShardCommitted;
import io.tributary.ps.wire.DataPlane;
import io.tributary.ps.wire.FrameType;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A real shard actor on a real data plane (Aeron, 127.0.0.1), driven the way the coordinator and
 * trainers drive it.
 */
class ParameterShardTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final long RUN = 77L;
    private static final int N = 2 * ContributionSlots.CHUNK_FLOATS + 5;

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    /**
     * A trainer asks for the next parameters and dies before the step closes. Before the fix the
     * shard failed on the send to the dead node, sharding started it again from the initial
     * parameters at version 0, and every live trainer waited for version 1 for ever (a chaos run
     * stalled on CI). Now the request is dropped when the trainer leaves the quorum, a send to a
     * node nobody receives at is skipped, and the shard keeps its version and parameters.
     */
    @Test
    void aDeadRequesterNeitherStopsNorResetsTheShard() throws Exception {
        ShardLayout layout = new ShardLayout(N, 1);
        ShardSettings settings = ShardSettings.from(ConfigFactory.parseString(
                "tributary.cluster.shards = 1\ntributary.consistency.deadline = 60s").withFallback(ConfigFactory.load()));
        Duration sendTimeout = Duration.ofSeconds(2);
        float[] initial = new float[N];
        Arrays.fill(initial, 0.5f);
        AtomicLong readyVersion = new AtomicLong(-1);
        CountDownLatch ready = new CountDownLatch(1);
        try (NodeDataPlane ps = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout, sendTimeout);
             NodeDataPlane trainer = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout,
                     sendTimeout)) {
            String deadEndpoint;
            try (NodeDataPlane gone = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout,
                    sendTimeout)) {
                deadEndpoint = gone.endpoint();
            }
            ParameterAssembler replica = new ParameterAssembler(layout, v -> {
                readyVersion.set(v);
                ready.countDown();
            });
            trainer.hostReplica(NodeDataPlane.TRAINER_REPLICA, replica);

            ActorRef<ShardCommand> shard = KIT.spawn(ParameterShard.create(0, settings, ps, () -> initial,
                    new TrainingMetrics(new PrometheusRegistry())));
            TestProbe<CoordinatorCommand> coordinator = KIT.createTestProbe();
            TestProbe<ParamsSent> sent = KIT.createTestProbe();
            shard.tell(new SetQuorum(RUN, 1, Set.of(0, 1), 0, coordinator.getRef()));
            // version 0 to the live trainer: the shard is up and routes frames from here on
            shard.tell(new RequestParams(0, trainer.endpoint(), 0, sent.getRef()));
            assertEquals(0, sent.expectMessageClass(ParamsSent.class, Duration.ofSeconds(20)).version());

            // trainer 1 (about to die) already waits for version 1; trainer 0 pushes step 0
            shard.tell(new RequestParams(1, deadEndpoint, 1, sent.getRef()));
            float[] gradient = new float[N];
            Arrays.fill(gradient, 1f);
            trainer.send(ps.endpoint(), FrameType.GRADIENT, 0, 0, 0, 0L, gradient, 0, N);
            // trainer 1 is gone: the quorum shrinks and step 0 closes with trainer 0 alone
            shard.tell(new SetQuorum(RUN, 2, Set.of(0), 0, coordinator.getRef()));
            ShardCommitted committed = coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20));
            assertEquals(0, committed.step());
            assertEquals(1, committed.contributors());

            // a request to an endpoint nobody receives at (a trainer still in the quorum that died) is skipped
            shard.tell(new RequestParams(0, deadEndpoint, 1, sent.getRef()));
            sent.expectNoMessage(Duration.ofMillis(300));

            // the live trainer gets version 1, not a reset shard's version 0 and initial parameters
            replica.expect(1);
            shard.tell(new RequestParams(0, trainer.endpoint(), 1, sent.getRef()));
            ParamsSent reply = sent.expectMessageClass(ParamsSent.class, Duration.ofSeconds(20));
            assertEquals(1, reply.version());
            assertTrue(ready.await(20, TimeUnit.SECONDS), "parameters of version 1 did not arrive");
            assertEquals(1, readyVersion.get());
            assertTrue(replica.parameters()[0] < 0.5f, "the optimizer step was applied: " + replica.parameters()[0]);
            KIT.stop(shard);
        }
    }
}
