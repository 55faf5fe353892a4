package io.tributary.ps.shard;

import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.StateKind;
import io.tributary.protocol.ShardLayout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tributary.dataplane.ContributionSlots;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.dataplane.ParameterAssembler;
import io.tributary.dataplane.DataPlaneMetrics;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.ShardProtocol.HandOverAck;
import io.tributary.protocol.CoordinatorProtocol.HandOverDone;
import io.tributary.protocol.ShardProtocol.RollbackShard;
import io.tributary.protocol.CoordinatorProtocol.ShardRestored;
import io.tributary.protocol.TrainerProtocol.ResendGradient;
import io.tributary.protocol.ShardProtocol.ShardReply;
import io.tributary.protocol.CoordinatorProtocol.ShardStarted;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.ShardProtocol.StartShard;
import io.tributary.protocol.TrainerProtocol.ParamsSent;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.ShardProtocol.SetQuorum;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.wire.DataPlane;
import io.tributary.wire.FrameType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
                    metrics()));
            TestProbe<CoordinatorCommand> coordinator = KIT.createTestProbe();
            TestProbe<ShardReply> sent = KIT.createTestProbe();
            shard.tell(new SetQuorum(RUN, 1, Map.of(0, "-", 1, "-"), 0, coordinator.getRef()));
            // version 0 to the live trainer: the shard is up and routes frames from here on
            shard.tell(new RequestParams(0, trainer.endpoint(), 0, sent.getRef()));
            assertEquals(0, sent.expectMessageClass(ParamsSent.class, Duration.ofSeconds(20)).version());

            // trainer 1 (about to die) already waits for version 1; trainer 0 pushes step 0
            shard.tell(new RequestParams(1, deadEndpoint, 1, sent.getRef()));
            float[] gradient = new float[N];
            Arrays.fill(gradient, 1f);
            trainer.send(ps.endpoint(), FrameType.GRADIENT, 0, 0, 0, 0L, gradient, 0, N);
            // trainer 1 is gone: the quorum shrinks and step 0 closes with trainer 0 alone
            shard.tell(new SetQuorum(RUN, 2, Map.of(0, "-"), 0, coordinator.getRef()));
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

    /**
     * A trainer asks from an endpoint the shard has no publication to and nobody receives at: opening
     * one waits up to the send timeout (5 s here) for a connection. The shard's actor must not: the
     * next trainer's request is answered long before that.
     */
    @Test
    void aRequestFromANewDeadEndpointDoesNotHoldUpTheShardsNextRequest() throws Exception {
        ShardLayout layout = new ShardLayout(N, 1);
        ShardSettings settings = ShardSettings.from(ConfigFactory.parseString(
                "tributary.cluster.shards = 1\ntributary.consistency.deadline = 60s").withFallback(ConfigFactory.load()));
        Duration sendTimeout = Duration.ofSeconds(5);
        float[] initial = new float[N];
        try (NodeDataPlane ps = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout, sendTimeout);
             NodeDataPlane trainer = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout,
                     sendTimeout)) {
            String deadEndpoint;
            try (NodeDataPlane gone = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout,
                    sendTimeout)) {
                deadEndpoint = gone.endpoint();
            }
            trainer.hostReplica(NodeDataPlane.TRAINER_REPLICA, new ParameterAssembler(layout, v -> { }));
            ActorRef<ShardCommand> shard = KIT.spawn(ParameterShard.create(0, settings, ps, () -> initial, metrics()));
            TestProbe<CoordinatorCommand> coordinator = KIT.createTestProbe();
            TestProbe<ShardReply> live = KIT.createTestProbe();
            TestProbe<ShardReply> dead = KIT.createTestProbe();
            shard.tell(new SetQuorum(RUN, 1, Map.of(0, "-", 1, "-"), 0, coordinator.getRef()));
            shard.tell(new RequestParams(0, trainer.endpoint(), 0, live.getRef()));
            assertEquals(0, live.expectMessageClass(ParamsSent.class, Duration.ofSeconds(20)).version());

            shard.tell(new RequestParams(1, deadEndpoint, 0, dead.getRef()));
            long t0 = System.nanoTime();
            shard.tell(new RequestParams(0, trainer.endpoint(), 0, live.getRef()));
            assertEquals(0, live.expectMessageClass(ParamsSent.class, Duration.ofSeconds(2)).version(),
                    "the shard answered the live trainer only after the dead endpoint's open");
            assertTrue(System.nanoTime() - t0 < sendTimeout.toNanos() / 2);
            dead.expectNoMessage(Duration.ofMillis(200));
            KIT.stop(shard);
        }
    }

    /**
     * A quorum member whose work-plan slice of a step is empty says so instead of sending a gradient:
     * the step waits for it like for any member, then closes with its contribution counted and only
     * the real gradient aggregated.
     */
    @Test
    void anEmptyContributionClosesTheStepWithoutAddingToIt() throws Exception {
        ShardLayout layout = new ShardLayout(N, 1);
        ShardSettings settings = ShardSettings.from(ConfigFactory.parseString(
                "tributary.cluster.shards = 1\ntributary.consistency.deadline = 60s").withFallback(ConfigFactory.load()));
        float[] initial = new float[N];
        Arrays.fill(initial, 0.5f);
        try (NodeDataPlane ps = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout,
                Duration.ofSeconds(2));
             NodeDataPlane trainer = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout,
                     Duration.ofSeconds(2))) {
            ParameterAssembler replica = new ParameterAssembler(layout, v -> { });
            trainer.hostReplica(NodeDataPlane.TRAINER_REPLICA, replica);
            ActorRef<ShardCommand> shard = KIT.spawn(ParameterShard.create(0, settings, ps, () -> initial,
                    metrics()));
            TestProbe<CoordinatorCommand> coordinator = KIT.createTestProbe();
            TestProbe<ShardReply> sent = KIT.createTestProbe();
            shard.tell(new SetQuorum(RUN, 1, Map.of(0, "-", 1, "-"), 0, coordinator.getRef()));
            shard.tell(new RequestParams(0, trainer.endpoint(), 0, sent.getRef()));
            assertEquals(0, sent.expectMessageClass(ParamsSent.class, Duration.ofSeconds(20)).version());

            float[] gradient = new float[N];
            Arrays.fill(gradient, 1f);
            trainer.send(ps.endpoint(), FrameType.GRADIENT, 0, 0, 0, 0L, gradient, 0, N);
            coordinator.expectNoMessage(Duration.ofMillis(500)); // trainer 1 has not answered for step 0 yet
            shard.tell(new io.tributary.protocol.ShardProtocol.EmptyContribution(1, 0L));
            ShardCommitted committed = coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20));
            assertEquals(0, committed.step());
            assertEquals(2, committed.contributors(), "the empty contribution counts towards the quorum");
            assertEquals(Set.of(0), committed.checksums().keySet(), "only trainer 0's gradient went into the update");
            // an empty contribution of a step already closed, or of a trainer outside the quorum, changes nothing
            shard.tell(new io.tributary.protocol.ShardProtocol.EmptyContribution(1, 0L));
            shard.tell(new io.tributary.protocol.ShardProtocol.EmptyContribution(5, 1L));
            coordinator.expectNoMessage(Duration.ofMillis(300));
            KIT.stop(shard);
        }
    }

    /**
     * One vote per member: a gradient under an id outside the quorum is refused (counted, never
     * aggregated), and a trainer that leaves the quorum after its gradient of the open step came is
     * left out when the step closes.
     */
    @Test
    void aContributionOutsideTheQuorumIsRefusedAndALeaverIsLeftOutOfTheStep() throws Exception {
        ShardLayout layout = new ShardLayout(N, 1);
        ShardSettings settings = ShardSettings.from(ConfigFactory.parseString(
                "tributary.cluster.shards = 1\ntributary.consistency.deadline = 60s").withFallback(ConfigFactory.load()));
        float[] initial = new float[N];
        try (NodeDataPlane ps = plane(layout); NodeDataPlane trainer = plane(layout)) {
            ShardMetrics metrics = metrics();
            ActorRef<ShardCommand> shard = KIT.spawn(ParameterShard.create(0, settings, ps, () -> initial, metrics));
            TestProbe<CoordinatorCommand> coordinator = KIT.createTestProbe();
            TestProbe<ShardReply> sent = KIT.createTestProbe();
            trainer.hostReplica(NodeDataPlane.TRAINER_REPLICA, new ParameterAssembler(layout, v -> { }));
            shard.tell(new SetQuorum(RUN, 1, Map.of(0, "-", 1, "-", 2, "-"), 0, coordinator.getRef()));
            shard.tell(new RequestParams(0, trainer.endpoint(), 0, sent.getRef()));
            assertEquals(0, sent.expectMessageClass(ParamsSent.class, Duration.ofSeconds(20)).version());
            float[] gradient = new float[N];
            Arrays.fill(gradient, 1f);
            trainer.send(ps.endpoint(), FrameType.GRADIENT, 7, 0, 0, 0L, gradient, 0, N); // id 7: nobody's
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (metrics.contributionsRefused.labelValues("not_in_quorum").get() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1.0, metrics.contributionsRefused.labelValues("not_in_quorum").get());
            trainer.send(ps.endpoint(), FrameType.GRADIENT, 0, 0, 0, 0L, gradient, 0, N);
            trainer.send(ps.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, gradient, 0, N);
            coordinator.expectNoMessage(Duration.ofMillis(500)); // trainer 2 has not sent step 0 yet
            shard.tell(new SetQuorum(RUN, 2, Map.of(0, "-", 2, "-"), 0, coordinator.getRef())); // trainer 1 leaves
            trainer.send(ps.endpoint(), FrameType.GRADIENT, 2, 0, 0, 0L, gradient, 0, N);
            ShardCommitted committed = coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20));
            assertEquals(0, committed.step());
            assertEquals(Set.of(0, 2), committed.checksums().keySet(), "trainer 1 left the quorum: not aggregated");
            KIT.stop(shard);
        }
    }

    /**
     * Sharding moves a shard to another ps node: the old incarnation hands its parameters, version and
     * optimizer state over through the coordinator and stops when acknowledged; the new one waits for
     * them, asks the trainer for the gradient that went to the old node, and from there on computes
     * bit for bit what a shard that never moved computes.
     */
    @Test
    void aMovedShardGoesOnWithItsStateAndAsksForTheGradientThatWentToTheOldNode() throws Exception {
        ShardLayout layout = new ShardLayout(N, 1);
        ShardSettings settings = ShardSettings.from(ConfigFactory.parseString("tributary.cluster.shards = 1\n"
                + "tributary.consistency.deadline = 60s\ntributary.consistency.resend-after = 300ms\n"
                + "tributary.optimizer.type = adam").withFallback(ConfigFactory.load()));
        float[] initial = new float[N];
        Arrays.fill(initial, 0.5f);
        float[] g0 = new float[N];
        float[] g1 = new float[N];
        for (int i = 0; i < N; i++) {
            g0[i] = (i % 7) * 0.1f - 0.3f;
            g1[i] = (i % 5) * -0.2f + 0.4f;
        }
        CountDownLatch[] ready = {new CountDownLatch(1)};
        try (NodeDataPlane oldPs = plane(layout); NodeDataPlane newPs = plane(layout); NodeDataPlane refPs = plane(layout);
             NodeDataPlane trainer = plane(layout)) {
            ParameterAssembler replica = new ParameterAssembler(layout, v -> ready[0].countDown());
            trainer.hostReplica(NodeDataPlane.TRAINER_REPLICA, replica);
            TestProbe<CoordinatorCommand> coordinator = KIT.createTestProbe();
            TestProbe<ShardReply> replies = KIT.createTestProbe();
            List<ShardCommand> passedOn = java.util.Collections.synchronizedList(new ArrayList<>());

            // the reference never moves (no coordinator to ask: it starts at once)
            ActorRef<ShardCommand> ref = KIT.spawn(ParameterShard.create(0, settings, refPs, () -> initial, 0,
                    metrics()));
            ref.tell(new SetQuorum(RUN, 1, Map.of(0, "-"), 0, coordinator.getRef()));
            ActorRef<ShardCommand> old = KIT.spawn(ParameterShard.create(0, settings, oldPs, () -> initial, 0,
                    metrics(), new ParameterShard.Links(coordinator.getRef(),
                            passedOn::add)));
            ShardStarted announced = coordinator.expectMessageClass(ShardStarted.class, Duration.ofSeconds(20));
            // before the coordinator's word the shard sends nothing
            old.tell(new SetQuorum(RUN, 1, Map.of(0, "-"), 0, coordinator.getRef()));
            old.tell(new RequestParams(0, trainer.endpoint(), 0, replies.getRef()));
            replies.expectNoMessage(Duration.ofMillis(300));
            announced.shardRef().tell(new StartShard(RUN, 0));
            assertEquals(0, ((ParamsSent) replies.expectMessageClass(ParamsSent.class, Duration.ofSeconds(20))).version());

            // step 0 on both
            trainer.send(oldPs.endpoint(), FrameType.GRADIENT, 0, 0, 0, 0L, g0, 0, N);
            trainer.send(refPs.endpoint(), FrameType.GRADIENT, 0, 0, 0, 0L, g0, 0, N);
            assertEquals(1, coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20)).version());
            assertEquals(1, coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20)).version());

            // the trainer asks the old owner for version 1 and 2 (its step-1 gradient will go nowhere)
            old.tell(new RequestParams(0, trainer.endpoint(), 2, replies.getRef()));
            // sharding moves the shard: the state goes to the coordinator, the request is passed on
            old.tell(ParameterShard.HAND_OFF);
            List<StateChunk> pieces = new ArrayList<>();
            int expected = -1;
            while (expected < 0 || pieces.size() < expected) {
                StateChunk piece = coordinator.expectMessageClass(StateChunk.class, Duration.ofSeconds(20));
                assertEquals(StateKind.HAND_OVER, piece.kind());
                pieces.add(piece);
                expected = piece.parts() * ((N + ChunkedState.CHUNK_FLOATS - 1) / ChunkedState.CHUNK_FLOATS);
            }
            assertEquals(3, pieces.get(0).parts(), "parameters and Adam's two moments");
            assertEquals(1, pieces.get(0).version());
            assertEquals(1, pieces.get(0).optimizerSteps());
            assertTrue(passedOn.stream().anyMatch(m -> m instanceof RequestParams r && r.minVersion() == 2),
                    "the waiting request went on to the next owner: " + passedOn);
            // a gradient frame that reaches the old node now is dropped
            trainer.send(oldPs.endpoint(), FrameType.GRADIENT, 0, 0, 0, 1L, g1, 0, N);
            TestProbe<Object> watcher = KIT.createTestProbe();
            old.tell(new HandOverAck(0, pieces.get(0).owner()));
            watcher.expectTerminated(old, Duration.ofSeconds(20));

            ActorRef<ShardCommand> moved = KIT.spawn(ParameterShard.create(0, settings, newPs, () -> initial, 0,
                    metrics(), new ParameterShard.Links(coordinator.getRef(),
                            passedOn::add)));
            coordinator.expectMessageClass(ShardStarted.class, Duration.ofSeconds(20));
            passedOn.forEach(moved::tell); // what sharding delivers to the next incarnation
            moved.tell(new SetQuorum(RUN, 1, Map.of(0, "-"), 0, coordinator.getRef())); // what the coordinator sends first
            pieces.forEach(moved::tell);
            HandOverDone done = coordinator.expectMessageClass(HandOverDone.class, Duration.ofSeconds(20));
            assertEquals(1, done.version());
            assertEquals(pieces.get(0).owner(), done.previousOwner());
            // the new owner asks for the step-1 gradient at once, to be sent to its node
            ResendGradient resend = replies.expectMessageClass(ResendGradient.class, Duration.ofSeconds(20));
            assertEquals(1, resend.step());
            assertEquals(newPs.endpoint(), resend.shardEndpoint());
            // a resend the trainer could not take (its push stream full) is asked for again after resend-after
            ResendGradient again = replies.expectMessageClass(ResendGradient.class, Duration.ofSeconds(20));
            assertEquals(1, again.step());
            trainer.send(resend.shardEndpoint(), FrameType.GRADIENT, 0, 0, 0, 1L, g1, 0, N);
            trainer.send(refPs.endpoint(), FrameType.GRADIENT, 0, 0, 0, 1L, g1, 0, N);
            ShardCommitted c1 = coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20));
            ShardCommitted c2 = coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20));
            assertEquals(2, c1.version());
            assertEquals(2, c2.version());

            float[][] version2 = new float[2][];
            ActorRef<ShardCommand>[] shards = new ActorRef[] {ref, moved};
            for (int i = 0; i < 2; i++) {
                ready[0] = new CountDownLatch(1);
                replica.expect(2);
                shards[i].tell(new RequestParams(0, trainer.endpoint(), 2, replies.getRef()));
                assertTrue(ready[0].await(20, TimeUnit.SECONDS), "version 2 did not arrive");
                version2[i] = replica.parameters().clone();
            }
            assertTrue(Arrays.equals(version2[0], version2[1]),
                    "a moved shard computes what an unmoved one does (Adam's moments went with it)");
            assertTrue(version2[0][0] != 0.5f);
            KIT.stop(ref);
            KIT.stop(moved);
        }
    }

    /**
     * The coordinator's consistent cut holds the optimizer state: an evaluation's request makes the
     * shard send its moments with the parameters, and a shard rolled back to that cut with them goes
     * on bit for bit as the shard it was taken from (Adam does not start again from zero).
     */
    @Test
    void aRollbackWithTheCutsOptimizerStateGoesOnAsTheOriginal() throws Exception {
        ShardLayout layout = new ShardLayout(N, 1);
        ShardSettings settings = ShardSettings.from(ConfigFactory.parseString("tributary.cluster.shards = 1\n"
                + "tributary.consistency.deadline = 60s\ntributary.optimizer.type = adam").withFallback(ConfigFactory.load()));
        float[] initial = new float[N];
        Arrays.fill(initial, 0.5f);
        float[][] g = new float[3][N];
        for (int s = 0; s < 3; s++) {
            for (int i = 0; i < N; i++) {
                g[s][i] = ((i + 3 * s) % 7) * 0.1f - 0.3f;
            }
        }
        CountDownLatch[] ready = {new CountDownLatch(1)};
        try (NodeDataPlane psA = plane(layout); NodeDataPlane psB = plane(layout); NodeDataPlane trainer = plane(layout)) {
            ParameterAssembler replica = new ParameterAssembler(layout, v -> ready[0].countDown());
            trainer.hostReplica(NodeDataPlane.COORDINATOR_REPLICA, replica);
            TestProbe<CoordinatorCommand> coordinator = KIT.createTestProbe();
            TestProbe<ShardReply> replies = KIT.createTestProbe();
            ActorRef<ShardCommand> a = KIT.spawn(ParameterShard.create(0, settings, psA, () -> initial,
                    metrics()));
            ActorRef<ShardCommand> b = KIT.spawn(ParameterShard.create(0, settings, psB, () -> initial,
                    metrics()));
            a.tell(new SetQuorum(RUN, 1, Map.of(0, "-"), 0, coordinator.getRef()));
            for (long step = 0; step < 2; step++) {
                trainer.send(psA.endpoint(), FrameType.GRADIENT, 0, 0, 0, step, g[(int) step], 0, N);
                assertEquals(step + 1, coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20)).version());
            }
            // the evaluation of version 2: parameters over the data plane, optimizer state to the coordinator
            replica.expect(2);
            a.tell(new RequestParams(-1, trainer.endpoint(), 2, replies.getRef()));
            assertTrue(ready[0].await(20, TimeUnit.SECONDS), "version 2 did not arrive");
            float[] cut = replica.parameters().clone();
            float[][] moments = new float[2][N];
            int pieces = 2 * ((N + ChunkedState.CHUNK_FLOATS - 1) / ChunkedState.CHUNK_FLOATS);
            for (int i = 0; i < pieces; i++) {
                StateChunk o = coordinator.expectMessageClass(StateChunk.class, Duration.ofSeconds(20));
                assertEquals(StateKind.OPTIMIZER_CUT, o.kind());
                assertEquals(2, o.version());
                assertEquals(2, o.optimizerSteps());
                System.arraycopy(o.values(), 0, moments[o.part()], o.offset(), o.values().length);
            }

            // b (another node) is rolled back to that cut with the optimizer state, as the coordinator sends it
            b.tell(new RollbackShard(RUN, 1, 2, N, 2, coordinator.getRef()));
            for (ChunkedState.Piece p : ChunkedState.cut(new float[][] {cut, moments[0], moments[1]}, new int[3], N)) {
                b.tell(new StateChunk(RUN, 0, StateKind.ROLLBACK, 1, "coordinator", 2, 2, 3, p.part(), p.offset(),
                        p.values(), p.partDigest(), null));
            }
            assertEquals(2, coordinator.expectMessageClass(ShardRestored.class, Duration.ofSeconds(20)).version());
            b.tell(new SetQuorum(RUN, 1, Map.of(0, "-"), 0, coordinator.getRef()));

            // step 2 on both: the same version 3
            trainer.send(psA.endpoint(), FrameType.GRADIENT, 0, 0, 0, 2L, g[2], 0, N);
            trainer.send(psB.endpoint(), FrameType.GRADIENT, 0, 0, 0, 2L, g[2], 0, N);
            assertEquals(3, coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20)).version());
            assertEquals(3, coordinator.expectMessageClass(ShardCommitted.class, Duration.ofSeconds(20)).version());
            float[][] v3 = new float[2][];
            ActorRef<ShardCommand>[] shards = new ActorRef[] {a, b};
            for (int i = 0; i < 2; i++) {
                ready[0] = new CountDownLatch(1);
                replica.expect(3);
                shards[i].tell(new RequestParams(-1, trainer.endpoint(), 3, replies.getRef()));
                assertTrue(ready[0].await(20, TimeUnit.SECONDS), "version 3 did not arrive");
                v3[i] = replica.parameters().clone();
            }
            assertTrue(Arrays.equals(v3[0], v3[1]), "the rolled-back shard computes what the original does");
            KIT.stop(a);
            KIT.stop(b);
        }
    }

    /** A data plane on 127.0.0.1 for run {@link #RUN}. */
    /** A shard's metrics in a registry of their own, with the data-plane counter they share. */
    private static ShardMetrics metrics() {
        PrometheusRegistry registry = new PrometheusRegistry();
        return new ShardMetrics(registry, new DataPlaneMetrics(registry));
    }

    private static NodeDataPlane plane(ShardLayout layout) throws Exception {
        return new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout, Duration.ofSeconds(2));
    }
}
