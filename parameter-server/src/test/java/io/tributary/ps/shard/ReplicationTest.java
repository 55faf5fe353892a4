package io.tributary.ps.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tributary.dataplane.DataPlaneMetrics;
import io.tributary.kernels.Backend;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.protocol.ShardProtocol.ReplicaAck;
import io.tributary.protocol.ShardProtocol.ReplicaCommit;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.StateKind;
import io.tributary.ps.optim.Optimizer;
import io.tributary.ps.optim.OptimizerSettings;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The owner's side of a shard's replicas: a step is announced only once its replica holds it (or
 * replica-timeout passed), the replica gets the step's aggregate when it holds the version before and
 * the whole state otherwise. The replica store is a probe of another actor system (another node).
 */
class ReplicationTest {

    private static final ActorTestKit OWNER = ActorTestKit.create("owner");
    private static final ActorTestKit OTHER = ActorTestKit.create("other");
    private static final String INCARNATION = "127.0.0.1:40999/ab12";
    private static final Duration WAIT = Duration.ofSeconds(10);

    @AfterAll
    static void stop() {
        OWNER.shutdownTestKit();
        OTHER.shutdownTestKit();
    }

    /** Runs {@code action} with the replication inside an actor (it needs a context and timers). */
    private record Call(Consumer<Replication> action) implements ShardCommand {
    }

    private static ShardCommitted commit(long version) {
        return new ShardCommitted(0, version - 1, 1, 1, false, Set.of(), Set.of(), Map.of(0, 1L), version, INCARNATION);
    }

    @Test
    void aStepIsAnnouncedOnlyOnceItsReplicaHoldsItAndAReplicaThatFellBehindGetsTheWholeState() {
        int n = 4;
        ShardSettings settings = ShardSettings.from(ConfigFactory.parseString("tributary.optimizer.type = sgd\n"
                + "tributary.optimizer.momentum = 0\ntributary.cluster.replica-timeout = 400ms")
                .withFallback(ConfigFactory.load()));
        Backend backend = CpuBackend.create();
        float[] params = {1f, 2f, 3f, 4f};
        Optimizer optimizer = Optimizer.create(OptimizerSettings.sgd(0.5f, 0f), backend, n);
        PrometheusRegistry registry = new PrometheusRegistry();
        ShardMetrics metrics = new ShardMetrics(registry, new DataPlaneMetrics(registry));
        TestProbe<ShardCommand> store = OTHER.createTestProbe();
        AtomicInteger announced = new AtomicInteger();
        @SuppressWarnings("unchecked")
        ActorRef<ShardCommand>[] self = new ActorRef[1];
        ActorRef<ShardCommand> owner = OWNER.spawn(Behaviors.<ShardCommand>withTimers(timers -> Behaviors.setup(ctx -> {
            self[0] = ctx.getSelf();
            ShardTransfer transfer = new ShardTransfer(7L, 0, INCARNATION, params, optimizer, backend, ctx.getLog());
            Replication r = new Replication(ctx, timers, 0, 7L, INCARNATION, settings, transfer, backend, n, metrics);
            return Behaviors.receive(ShardCommand.class)
                    .onMessage(Call.class, c -> {
                        c.action().accept(r);
                        return Behaviors.same();
                    })
                    .onMessage(ReplicaAck.class, a -> {
                        r.ack(a);
                        return Behaviors.same();
                    })
                    .onMessage(Replication.Timeout.class, t -> {
                        r.timeout(t);
                        return Behaviors.same();
                    })
                    .build();
        })));
        TestProbe<Boolean> result = OWNER.createTestProbe();
        owner.tell(new Call(r -> r.stores(Set.of(store.getRef()))));

        // step 0 -> 1: the replica is new to the shard, so it gets the whole state
        owner.tell(new Call(r -> {
            r.captured(CpuBackend.wrap(new float[] {9f, 9f, 9f, 9f}));
            result.getRef().tell(r.replicate(0, 1, commit(1), announced::incrementAndGet));
        }));
        assertTrue(result.receiveMessage(WAIT), "a replica to wait for");
        assertEquals(1, ((ReplicaCommit) store.receiveMessage(WAIT)).commit().version());
        StateChunk state = (StateChunk) store.receiveMessage(WAIT);
        assertEquals(StateKind.REPLICA_STATE, state.kind());
        assertEquals(1, state.version());
        assertEquals(2, state.parts(), "the parameters and SGD's velocity");
        assertEquals(StateKind.REPLICA_STATE, ((StateChunk) store.receiveMessage(WAIT)).kind());
        store.expectNoMessage(Duration.ofMillis(100));
        assertEquals(0, announced.get(), "nothing announced before the replica holds the step");
        owner.tell(new ReplicaAck(7L, 0, "127.0.0.1:1/other-owner", 1, false, store.getRef())); // not ours
        owner.tell(new ReplicaAck(7L, 0, INCARNATION, 1, false, store.getRef()));
        owner.tell(new Call(r -> result.getRef().tell(r.holding())));
        assertFalse(result.receiveMessage(WAIT));
        assertEquals(1, announced.get());

        // step 1 -> 2: the replica holds version 1, so it gets the aggregate the optimizer is about to apply
        owner.tell(new Call(r -> {
            r.captured(CpuBackend.wrap(new float[] {0.5f, -1f, 0f, 2f}));
            r.replicate(1, 2, commit(2), announced::incrementAndGet);
        }));
        store.expectMessageClass(ReplicaCommit.class, WAIT);
        StateChunk step = (StateChunk) store.receiveMessage(WAIT);
        assertEquals(StateKind.REPLICA_STEP, step.kind());
        assertEquals(1, step.version(), "a step names the version it starts from");
        assertArrayEquals(new float[] {0.5f, -1f, 0f, 2f}, step.values());
        // the replica lost a step after all: it asks for the whole state, which comes at version 2
        owner.tell(new ReplicaAck(7L, 0, INCARNATION, 0, true, store.getRef()));
        StateChunk again = (StateChunk) store.receiveMessage(WAIT);
        assertEquals(StateKind.REPLICA_STATE, again.kind());
        assertEquals(2, again.version());
        store.receiveMessage(WAIT); // its second part
        assertEquals(1, announced.get(), "still held back");
        owner.tell(new ReplicaAck(7L, 0, INCARNATION, 2, false, store.getRef()));
        owner.tell(new Call(r -> result.getRef().tell(r.holding())));
        assertFalse(result.receiveMessage(WAIT));
        assertEquals(2, announced.get());

        // step 2 -> 3: no answer within replica-timeout: announced without it, whole state at the next step
        owner.tell(new Call(r -> {
            r.captured(CpuBackend.wrap(new float[] {1f, 1f, 1f, 1f}));
            r.replicate(2, 3, commit(3), announced::incrementAndGet);
        }));
        store.expectMessageClass(ReplicaCommit.class, WAIT);
        assertEquals(StateKind.REPLICA_STEP, ((StateChunk) store.receiveMessage(WAIT)).kind());
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (announced.get() < 3 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(3, announced.get(), "announced after the timeout");
        assertEquals(1.0, metrics.replicaTimeouts.get(), "the timeout counted");
        owner.tell(new Call(r -> {
            r.captured(CpuBackend.wrap(new float[] {1f, 1f, 1f, 1f}));
            r.replicate(3, 4, commit(4), announced::incrementAndGet);
        }));
        store.expectMessageClass(ReplicaCommit.class, WAIT);
        assertEquals(StateKind.REPLICA_STATE, ((StateChunk) store.receiveMessage(WAIT)).kind(),
                "a replica that did not answer gets the whole state");

        // no store on another node: nothing held back
        owner.tell(new Call(r -> {
            r.stores(Set.of());
            r.captured(CpuBackend.wrap(new float[] {1f, 1f, 1f, 1f}));
            result.getRef().tell(r.replicate(4, 5, commit(5), announced::incrementAndGet));
        }));
        assertFalse(result.receiveMessage(WAIT));
        OWNER.stop(owner);
        backend.close();
    }
}
