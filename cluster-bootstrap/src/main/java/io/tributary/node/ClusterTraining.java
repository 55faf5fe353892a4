package io.tributary.node;

import com.typesafe.config.Config;
import io.tributary.coordinator.RunRecorder;
import io.tributary.coordinator.TrainingCoordinator;
import java.nio.file.Path;
import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendMode;
import io.tributary.kernels.Backends;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.node.NodeDataPlane;
import io.tributary.ps.node.TrainingMetrics;
import io.tributary.ps.protocol.TrainingProtocol.CoordinatorCommand;
import io.tributary.ps.protocol.TrainingProtocol.ShardCommand;
import io.tributary.ps.protocol.TrainingProtocol.TrainerCommand;
import io.tributary.ps.shard.ParameterShard;
import io.tributary.ps.shard.ShardLayout;
import io.tributary.ps.shard.ShardSettings;
import io.tributary.ps.wire.DataPlane;
import io.tributary.trainer.cluster.Attack;
import io.tributary.trainer.cluster.TrainerActor;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.DataSets;
import io.tributary.trainer.local.TrainSettings;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node does in a training run, by role: every node gets a data plane and the sharding
 * and singleton proxies; {@code ps} nodes host parameter shards, the oldest {@code coordinator}
 * node hosts the coordinator singleton, {@code trainer} nodes run a supervised trainer actor.
 */
public final class ClusterTraining {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterTraining.class);

    private final NodeDataPlane dataPlane;

    private ClusterTraining(NodeDataPlane dataPlane) {
        this.dataPlane = dataPlane;
    }

    /** The data plane's endpoint, {@code host:port}. */
    public String dataEndpoint() {
        return dataPlane.endpoint();
    }

    /**
     * Starts this node's part of the run on {@code node}. {@code listener} is used only if this
     * node ends up hosting the coordinator.
     */
    public static ClusterTraining start(TributaryNode node, NodeSettings nodeSettings, Config config,
                                        TrainingCoordinator.Listener listener) {
        ActorSystem<?> system = node.system();
        ModelSpec spec = ModelSpec.from(config);
        ShardSettings shardSettings = ShardSettings.from(config);
        TrainSettings train = TrainSettings.from(config);
        Config dp = config.getConfig("tributary.data-plane");
        long runId = config.getLong("tributary.cluster.run-id");
        ShardLayout layout = new ShardLayout(spec.parameterCount(), shardSettings.shards());
        DataPlane.Settings planeSettings = DataPlane.Settings.defaults().withMtuLength(dp.getInt("mtu"));
        NodeDataPlane plane = new NodeDataPlane(planeSettings, nodeSettings.host(), dp.getInt("port"), runId, 0, layout,
                dp.getDuration("send-timeout"));
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "close-data-plane",
                () -> {
                    plane.close();
                    return CompletableFuture.completedFuture(Done.getInstance());
                });

        TrainingMetrics metrics = new TrainingMetrics(node.metricsRegistry());
        metrics.watchDataPlane(plane, node.metricsRegistry());
        Supplier<float[]> initial = memoize(() -> Mlp.initialParameters(spec, train.seed()));
        ClusterSharding sharding = ClusterSharding.get(system);
        sharding.init(Entity.of(ParameterShard.KEY,
                        ctx -> ParameterShard.create(Integer.parseInt(ctx.getEntityId()), shardSettings, plane, initial,
                                metrics))
                .withRole("ps")
                .withEntityProps(DispatcherSelector.fromConfig("tributary.dispatchers.shard")));
        Function<Integer, EntityRef<ShardCommand>> shards = k -> sharding.entityRefFor(ParameterShard.KEY,
                TrainerActor.entityId(k));

        TrainingCoordinator.Settings coordinatorSettings = new TrainingCoordinator.Settings(runId,
                config.getInt("tributary.cluster.min-trainers"), train.batchSize(), train.epochs(), train.seed(),
                shardSettings, config.getInt("tributary.cluster.eval-every-steps"));
        TrainingCoordinator.Resources coordinatorResources = new TrainingCoordinator.Resources(plane,
                () -> CpuBackend.create(), spec, () -> DataSets.load(config, false, spec.inputs(), spec.classes()), DataSets.trainCount(config), shards, listener, metrics,
                recorder(config, runId, spec));
        Behavior<CoordinatorCommand> coordinator = Behaviors.supervise(
                        TrainingCoordinator.create(coordinatorSettings, coordinatorResources))
                .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofSeconds(1), Duration.ofSeconds(10), 0.2));
        ActorRef<CoordinatorCommand> coordinatorProxy = ClusterSingleton.get(system).init(
                SingletonActor.of(coordinator, "training-coordinator")
                        .withSettings(ClusterSingletonSettings.create(system).withRole("coordinator"))
                        .withProps(DispatcherSelector.fromConfig("tributary.dispatchers.coordinator")));

        if (nodeSettings.roles().contains("trainer")) {
            BackendMode mode = BackendMode.parse(config.getString("tributary.backend.mode"));
            Backend backend = Backends.open(mode, line -> LOG.warn("{}", line));
            Dataset trainSet = DataSets.load(config, true, spec.inputs(), spec.classes());
            TrainerActor.Resources res = new TrainerActor.Resources(node.address().toString(), backend, spec, trainSet,
                    train.seed(), plane, coordinatorProxy, shards, dp.getDuration("request-timeout"),
                    config.getDouble("tributary.trainer.slowdown"), metrics,
                    Attack.parse(config.getString("tributary.trainer.attack")));
            Behavior<TrainerCommand> trainer = Behaviors.supervise(TrainerActor.create(res))
                    .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofSeconds(1), Duration.ofSeconds(15), 0.2));
            system.systemActorOf(trainer, "trainer", DispatcherSelector.fromConfig("tributary.dispatchers.trainer"));
            LOG.info("trainer started on {} ({})", plane.endpoint(), backend.description());
        }
        return new ClusterTraining(plane);
    }

    /** Checkpoints and history go to {@code tributary.cluster.history-dir} (empty: not recorded). */
    private static RunRecorder recorder(Config config, long runId, ModelSpec spec) {
        String dir = config.getString("tributary.cluster.run-dir");
        return dir.isEmpty() ? null : new RunRecorder(Path.of(dir), runId, RunRecorder.configHash(config), spec.sizes());
    }

    private static <T> Supplier<T> memoize(Supplier<T> s) {
        return new Supplier<>() {
            private T value;

            @Override
            public synchronized T get() {
                if (value == null) {
                    value = s.get();
                }
                return value;
            }
        };
    }
}
