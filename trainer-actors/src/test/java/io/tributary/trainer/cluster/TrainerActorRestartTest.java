package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tributary.dataplane.DataPlaneMetrics;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.protocol.ConsistencyPolicy;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.CoordinatorProtocol.RegisterTrainer;
import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.TrainerProtocol.Assignment;
import io.tributary.protocol.TrainerProtocol.Rewind;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.data.SyntheticDataset;
import io.tributary.trainer.model.Activation;
import io.tributary.trainer.model.ModelSpec;
import io.tributary.wire.DataPlane;
import io.tributary.wire.Encoding;
import java.time.Duration;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.sharding.typed.testkit.javadsl.TestEntityRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A real trainer actor on a real data plane, restarted by rewinds as the coordinator restarts it:
 * each incarnation makes its own model on the node's backend, and the one before must have given
 * its tensors back, or a GPU fills up restart after restart.
 */
class TrainerActorRestartTest {

    private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.parseString("""
            tributary.dispatchers.pipeline {
              type = Dispatcher
              executor = "thread-pool-executor"
              thread-pool-executor.fixed-pool-size = 1
            }
            """).withFallback(ConfigFactory.load()));
    private static final long RUN = 31L;
    private static final ModelSpec SPEC = ModelSpec.of(Activation.Function.RELU, 6, 5, 3);
    /** By hand, as in {@link ModelStepFreeTest}: 10 tensors of the 6-5-3 model and the step's input and labels. */
    private static final int ONE_MODEL = 12;

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    @Test
    void afterRestartsTheBackendHoldsOneModelAndNoneOnceTheTrainerStops() throws Exception {
        CpuBackend cpu = CpuBackend.create();
        ShardLayout layout = new ShardLayout(SPEC.parameterCount(), 1);
        try (NodeDataPlane plane = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout,
                Duration.ofSeconds(2))) {
            TestProbe<CoordinatorCommand> coordinator = KIT.createTestProbe();
            TestProbe<ShardCommand> shard = KIT.createTestProbe();
            EntityTypeKey<ShardCommand> key = EntityTypeKey.create(ShardCommand.class, "ps-shard");
            PrometheusRegistry registry = new PrometheusRegistry();
            TrainerActor.Resources res = new TrainerActor.Resources("node-a", TrainerBackend.cpuOnly(cpu), SPEC,
                    SyntheticDataset.generate(64, 6, 3, 5), 5, plane, coordinator.getRef(),
                    k -> TestEntityRef.of(key, "shard-" + k, shard.getRef()), Duration.ofSeconds(30), 1.0,
                    new TrainerMetrics(registry, new DataPlaneMetrics(registry)), Attack.NONE, 0,
                    OptimizerSettings.sgd(0.1f, 0.9f), Encoding.FLOAT32, io.tributary.protocol.RegistrationSigner.NONE);
            ActorRef<TrainerCommand> trainer = KIT.spawn(Behaviors.supervise(TrainerActor.create(res))
                    .onFailure(TrainerActor.RewindRequested.class, SupervisorStrategy.restart().withLoggingEnabled(false)));
            int incarnations = 6;
            for (int i = 0; i < incarnations; i++) {
                RegisterTrainer r = coordinator.expectMessageClass(RegisterTrainer.class, Duration.ofSeconds(20));
                r.trainer().tell(new Assignment(RUN, 0, 1, 0, 10, 10, 4, 1, ConsistencyPolicy.SYNC, 0, Set.of(0)));
                awaitLive(cpu::liveTensors, ONE_MODEL, "incarnation " + i + " made its model");
                if (i + 1 < incarnations) {
                    r.trainer().tell(new Rewind(0, "test: the shards went back"));
                }
            }
            assertEquals(ONE_MODEL, cpu.liveTensors(), "after " + (incarnations - 1) + " restarts: one model");
            KIT.stop(trainer, Duration.ofSeconds(10));
            awaitLive(cpu::liveTensors, 0, "the stopped trainer gave its model back");
        } finally {
            cpu.close();
        }
    }

    /** Waits (at most 10 s) until {@code live} reads {@code expected}; fails with what it last read. */
    private static void awaitLive(LongSupplier live, long expected, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (live.getAsLong() != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(live.getAsLong() == expected, what + ": expected " + expected + " live tensors, found "
                + live.getAsLong());
    }
}
