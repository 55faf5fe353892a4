package io.tributary.node;

import io.tributary.coordinator.RunListener;
import com.typesafe.config.Config;
import io.tributary.coordinator.ResumePoint;
import io.tributary.coordinator.RunRecorder;
import io.tributary.coordinator.CoordinatorMetrics;
import io.tributary.coordinator.TrainingCoordinator;
import java.nio.file.Path;
import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendMode;
import io.tributary.kernels.Backends;
import io.tributary.trainer.cluster.TrainerBackend;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.dataplane.FaultHooks;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.dataplane.DataPlaneMetrics;
import io.tributary.protocol.ControlSignatures;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import io.tributary.ps.shard.ParameterShard;
import io.tributary.ps.shard.ShardReplicas;
import io.tributary.ps.shard.ShardMetrics;
import io.tributary.protocol.ShardLayout;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.ps.shard.ShardSettings;
import io.tributary.wire.DataPlane;
import io.tributary.wire.FrameAuth;
import io.tributary.trainer.cluster.TrainerActor;
import io.tributary.trainer.cluster.TrainerMetrics;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.DataSets;
import io.tributary.trainer.data.DataSettings;
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
     * Starts a node and its part of the run: the data plane first, so that its endpoint and frame
     * key travel with the node's cluster membership, then the node, then the training actors.
     * {@code listener} is used only if this node ends up hosting the coordinator.
     */
    public static TributaryNode launch(NodeSettings nodeSettings, Config config, RunListener listener) {
        RunSettings run = RunSettings.from(config);
        Path control = run.chaosControl();
        long cap = run.dataPlane().bandwidthCap();
        // the pacing that caps a chaos fault's bandwidth also enforces a configured cap
        ChaosFaults faults = control == null && cap == 0 ? null : new ChaosFaults();
        if (cap > 0) {
            faults.configureCap(cap);
            LOG.info("data plane capped at {} bytes/s (tributary.data-plane.bandwidth-cap)", cap);
        }
        NodeDataPlane plane = openDataPlane(nodeSettings, config, faults == null ? FaultHooks.NONE : faults);
        // the key this node signs control messages with (TLS on): announced with the data plane's
        byte[][] controlKeys = ControlSignatures.newKeyPair();
        TributaryNode node;
        try {
            node = TributaryNode.start(nodeSettings, config,
                    tls -> java.util.List.of(DataPlanePeers.role(plane, nodeSettings.host(), tls, controlKeys[1])));
        } catch (RuntimeException e) {
            plane.close();
            throw e;
        }
        try {
            start(node, plane, controlKeys, nodeSettings, config, listener);
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        if (control != null) {
            ChaosControl chaos = new ChaosControl(control, node, faults, plane.endpoint());
            node.whenTerminated().thenRun(chaos::close);
        }
        return node;
    }

    /**
     * This node's data plane, with frame authentication when {@code tributary.data-plane.authenticate}
     * is on, and {@code faults} injected (the chaos tool's; {@link FaultHooks#NONE} otherwise).
     */
    static NodeDataPlane openDataPlane(NodeSettings nodeSettings, Config config, FaultHooks faults) {
        ModelRun model = ModelRun.from(config);
        ShardSettings shardSettings = model.shardSettings(config);
        ShardSettings.encoding(config, "tributary.data-plane.gradient-encoding"); // checked on every node, at start
        // every settings record is checked on every node before it joins, like the above
        io.tributary.coordinator.WorkSettings.from(config);
        DataSettings.from(config);
        TrainSettings.from(config);
        RunSettings run = RunSettings.from(config);
        RunSettings.DataPlaneSettings dp = run.dataPlane();
        ShardLayout layout = new ShardLayout(model.shape().parameterCount(), shardSettings.shards());
        DataPlane.Settings planeSettings = DataPlane.Settings.defaults().withMtuLength(dp.mtuFor(nodeSettings));
        FrameAuth auth = dp.authenticate() ? FrameAuth.generate() : null;
        return new NodeDataPlane(planeSettings, nodeSettings.listenHost(), nodeSettings.host(),
                nodeSettings.resolvedDataPlanePort(dp.port()), run.runId(), 0, layout, dp.sendTimeout(), auth, faults);
    }

    /**
     * With TLS on, signs what this node sends and checks what it receives ({@link ControlSignatures});
     * a refusal is counted, logged once per signer and reason, and a member whose signed message its
     * role may not send is downed and reported as for a data-plane lie (by a ps or coordinator node).
     */
    private static void signControlMessages(ActorSystem<?> system, TributaryNode node, NodeDataPlane plane,
                                            byte[][] controlKeys, CoordinatorMetrics metrics,
                                            java.util.concurrent.atomic.AtomicReference<ActorRef<CoordinatorCommand>> coordinator,
                                            long runId, boolean judge,
                                            java.util.Map<String, org.apache.pekko.actor.Address> owners, boolean sign) {
        if (node.tls().isEmpty()) {
            return;
        }
        if (!sign) {
            LOG.warn("tributary.tls.sign-control-messages = off: control messages travel unsigned and are taken at"
                    + " their word (any member may send any of them); set it on for a cluster with volunteers");
            return;
        }
        io.tributary.tls.TlsMaterial.Node tls = node.tls().get();
        java.util.Set<String> logged = java.util.concurrent.ConcurrentHashMap.newKeySet();
        ControlSignatures.Listener refusals = (reason, signerId, signer, type, what) -> {
            String name = reason.name().toLowerCase(java.util.Locale.ROOT);
            metrics.controlRefused.labelValues(name, type).inc();
            if (!logged.add(signerId + "|" + name)) {
                return;
            }
            LOG.error("refused {}; further refusals from {} for {} are only counted (tributary_control_refused_total)",
                    what, signerId, name);
            if (signer != null && reason == ControlSignatures.Refusal.NOT_ITS_ROLE && coordinator.get() != null) {
                if (judge && plane.grants() != null) {
                    plane.grants().distrust(signer.endpoint()); // its gradient in flight does not count either
                }
                offence(system, coordinator.get(), runId, judge, node.tls(), owners, signer.endpoint(), name,
                        "sent a control message its certificate's roles may not send (" + what + ")");
            }
        };
        enableControlSignatures(system, tls, node.address(), plane.endpoint(), controlKeys, refusals);
    }

    /** Signs and checks {@code system}'s control messages as the node at {@code address} ({@link ControlSignatures}). */
    static void enableControlSignatures(ActorSystem<?> system, io.tributary.tls.TlsMaterial.Node tls,
                                        org.apache.pekko.actor.Address address, String endpoint, byte[][] controlKeys,
                                        ControlSignatures.Listener refusals) {
        ControlSignatures.get(system.classicSystem()).enable(
                new ControlSignatures.Signer(DataPlanePeers.signerId(address), controlKeys[1],
                        io.tributary.tls.ClusterCertificates.grantedRoles(tls.certificate()), endpoint),
                controlKeys[0], id -> DataPlanePeers.signer(system, tls, id), refusals);
    }

    /**
     * A member's authentic frames or signed messages spoke for someone else
     * ({@link io.tributary.dataplane.FrameGrants}, {@link ControlSignatures}): it is downed by this node, told
     * why, and reported to the coordinator, signed with this node's TLS key; the coordinator quarantines its
     * trainer only on a signed report of a ps node or the coordinator.
     */
    private static void offence(ActorSystem<?> system, ActorRef<CoordinatorCommand> coordinator, long runId, boolean judge,
                                java.util.Optional<io.tributary.tls.TlsMaterial.Node> tls,
                                java.util.Map<String, org.apache.pekko.actor.Address> owners, String endpoint,
                                String reason, String what) {
        org.apache.pekko.actor.Address member = owners.get(endpoint);
        org.apache.pekko.cluster.typed.Cluster cluster = org.apache.pekko.cluster.typed.Cluster.get(system);
        String self = cluster.selfMember().address().toString();
        String text = "member " + (member == null ? "at data-plane endpoint " + endpoint : member.toString()) + " "
                + what + " (" + reason + ")";
        if (member == null) {
            LOG.error("{}; no member announced that endpoint, so there is nobody to down; its frames are dropped",
                    text);
            return;
        }
        if (!judge) {
            // a trainer's word does not quarantine (the coordinator acts only on ps nodes' and its own), and a
            // trainer that downed the liar would take its key from the nodes whose signed report would
            LOG.error("{}: its frames are dropped here; the ps nodes and the coordinator, which it lies to as well,"
                    + " down it and have it quarantined", text);
            return;
        }
        LOG.error("{}: its frames are dropped, it is downed and reported to the coordinator", text);
        if (!member.equals(cluster.selfMember().address())) {
            system.classicSystem().actorSelection(member + "/user/" + NodeGuardian.ADMISSION)
                    .tell(new io.tributary.protocol.NodeProtocol.AdmissionDenied(self, text),
                            org.apache.pekko.actor.ActorRef.noSender());
            cluster.manager().tell(new org.apache.pekko.cluster.typed.Down(member));
        }
        String[] fields = {Long.toString(runId), member.toString(), self, what};
        String signature = tls.map(t -> io.tributary.tls.MemberSignatures.sign(t.key(),
                io.tributary.tls.MemberSignatures.OFFENCE_LABEL, fields)).orElse("");
        coordinator.tell(new io.tributary.protocol.CoordinatorProtocol.MemberOffence(member.toString(), self, what,
                signature));
    }

    /**
     * Starts this node's part of the run on {@code node}, whose membership must carry
     * {@link DataPlanePeers#role} of {@code plane}. {@code listener} is used only if this node ends up
     * hosting the coordinator.
     */
    public static ClusterTraining start(TributaryNode node, NodeDataPlane plane, byte[][] controlKeys,
                                        NodeSettings nodeSettings, Config config, RunListener listener) {
        ActorSystem<?> system = node.system();
        ModelRun model = ModelRun.from(config);
        ShardSettings shardSettings = model.shardSettings(config);
        io.tributary.coordinator.WorkSettings work = io.tributary.coordinator.WorkSettings.from(config);
        RunSettings run = RunSettings.from(config);
        long runId = run.runId();
        // which member announced each data-plane endpoint, to name and down one caught lying
        java.util.Map<String, org.apache.pekko.actor.Address> owners = new java.util.concurrent.ConcurrentHashMap<>();
        DataPlanePeers.follow(system, plane, owners, node.tls());
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "close-data-plane",
                () -> {
                    plane.close();
                    return CompletableFuture.completedFuture(Done.getInstance());
                });

        // Every node serves every role's metrics (zero where it has not the role), as dashboards expect.
        DataPlaneMetrics dataPlaneMetrics = new DataPlaneMetrics(node.metricsRegistry());
        dataPlaneMetrics.watch(plane);
        TrainerMetrics trainerMetrics = new TrainerMetrics(node.metricsRegistry(), dataPlaneMetrics);
        ShardMetrics shardMetrics = new ShardMetrics(node.metricsRegistry(), dataPlaneMetrics);
        CoordinatorMetrics coordinatorMetrics = new CoordinatorMetrics(node.metricsRegistry());
        boolean judge = nodeSettings.roles().contains("ps") || nodeSettings.roles().contains("coordinator");
        java.util.concurrent.atomic.AtomicReference<ActorRef<CoordinatorCommand>> coordinatorRef =
                new java.util.concurrent.atomic.AtomicReference<>();
        signControlMessages(system, node, plane, controlKeys, coordinatorMetrics, coordinatorRef, runId, judge, owners,
                config.getBoolean("tributary.tls.sign-control-messages"));
        // Only the nodes that hold parameters (ps) or start the run (coordinator) need the checkpoint.
        boolean needsCheckpoint = nodeSettings.roles().contains("ps") || nodeSettings.roles().contains("coordinator");
        if (run.resumeFrom() != null && !(model.shape() instanceof ModelSpec)) {
            throw new IllegalArgumentException("tributary.cluster.resume-from works for the mlp only for now: a "
                    + model.kind() + " run starts from its initial parameters; unset resume-from");
        }
        ResumePoint resume = run.resumeFrom() == null || !needsCheckpoint ? null
                : ResumePoint.load(run.resumeFrom(), ((ModelSpec) model.shape()).sizes());
        if (resume != null) {
            LOG.info("resuming from {} (step {})", resume.file(), resume.step());
        }
        Supplier<float[]> initial = resume != null ? resume::parameters
                : memoize(() -> model.shape().initialParameters(model.seed()));
        long initialVersion = resume == null ? 0 : resume.step();
        ClusterSharding sharding = ClusterSharding.get(system);
        Function<Integer, EntityRef<ShardCommand>> shards = k -> sharding.entityRefFor(ParameterShard.KEY,
                TrainerActor.entityId(k));

        TrainingCoordinator.Settings coordinatorSettings = new TrainingCoordinator.Settings(runId, run.minTrainers(),
                model.globalBatch(), model.epochs(), model.seed(), shardSettings,
                run.evalEverySteps() > 0 ? run.evalEverySteps() : model.evalEvery(),
                run.reputationRate(), run.quarantineBelow(), resume == null ? 0 : resume.step(), work);
        if (nodeSettings.roles().contains("observer")) {
            // this node follows the run: the coordinator, wherever it runs, sends it every event
            system.systemActorOf(io.tributary.coordinator.RunEvents.follower(runId, listener), "run-events",
                    org.apache.pekko.actor.typed.Props.empty());
        }
        RunListener coordinatorListener = nodeSettings.roles().contains("coordinator")
                ? io.tributary.coordinator.RunEvents.both(listener, io.tributary.coordinator.RunEvents.sender(system, runId))
                : listener;
        // The coordinator nodes' own replicator: the run's state, stored for whichever of them takes the run over
        // (io.tributary.coordinator.CoordinatorState); it runs on coordinator nodes only and talks only to them.
        ActorRef<org.apache.pekko.cluster.ddata.typed.javadsl.Replicator.Command> stateReplicator =
                !nodeSettings.roles().contains("coordinator") ? null : system.systemActorOf(
                        org.apache.pekko.cluster.ddata.typed.javadsl.Replicator.behavior(
                                org.apache.pekko.cluster.ddata.ReplicatorSettings.apply(
                                        config.getConfig("pekko.cluster.distributed-data")).withRole("coordinator")),
                        "coordinator-state", org.apache.pekko.actor.typed.Props.empty());
        java.time.Duration stateInterval = config.getDuration("tributary.cluster.state-interval");
        // Made per incarnation of the coordinator: a successor continues the history its predecessor wrote
        // (RunRecorder reads the chain's end when it opens), not the one there was when this node started.
        Supplier<TrainingCoordinator.Resources> coordinatorResources = () -> new TrainingCoordinator.Resources(plane,
                () -> CpuBackend.create(), model.shape(), model.testSet(),
                model.trainCount(), shards, coordinatorListener, coordinatorMetrics,
                run.runDir() == null ? null : new RunRecorder(run.runDir(), runId, run.configHash(), model.checkpoints()),
                initial,
                new TrainerIdentities(system, runId, node.tls()), stateReplicator, stateInterval);
        Behavior<CoordinatorCommand> coordinator = Behaviors.supervise(Behaviors.<CoordinatorCommand>setup(ctx ->
                        TrainingCoordinator.create(coordinatorSettings, coordinatorResources.get())))
                .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofSeconds(1), Duration.ofSeconds(10), 0.2));
        ActorRef<CoordinatorCommand> coordinatorProxy = ClusterSingleton.get(system).init(
                SingletonActor.of(coordinator, "training-coordinator")
                        .withSettings(ClusterSingletonSettings.create(system).withRole("coordinator"))
                        .withProps(DispatcherSelector.fromConfig("tributary.dispatchers.coordinator")));
        coordinatorRef.set(coordinatorProxy);
        if (plane.grants() != null) {
            plane.grants().onOffence((endpoint, reason, what) -> offence(system, coordinatorProxy, runId, judge,
                    node.tls(), owners, endpoint, reason.name().toLowerCase(java.util.Locale.ROOT), what));
        }
        // A shard asks the coordinator how to start, and hands its state over through it when sharding
        // moves it to another ps node (HAND_OFF is the stop message of a rebalance).
        sharding.init(Entity.of(ParameterShard.KEY,
                        ctx -> ParameterShard.create(Integer.parseInt(ctx.getEntityId()), shardSettings, plane, initial,
                                initialVersion, shardMetrics, new ParameterShard.Links(coordinatorProxy,
                                        m -> sharding.entityRefFor(ParameterShard.KEY, ctx.getEntityId()).tell(m))))
                .withRole("ps")
                .withStopMessage(ParameterShard.HAND_OFF)
                .withEntityProps(DispatcherSelector.fromConfig("tributary.dispatchers.shard")));
        if (nodeSettings.roles().contains("ps") && shardSettings.replicated()) {
            // this node keeps replicas of shards owned on other ps nodes (ParameterShard's replication)
            system.systemActorOf(ShardReplicas.create(runId, shardSettings, plane.layout()), "shard-replicas",
                    DispatcherSelector.fromConfig("tributary.dispatchers.shard"));
        }
        if (plane.grants() != null && (nodeSettings.roles().contains("trainer")
                || nodeSettings.roles().contains("coordinator"))) {
            // this node holds a parameter replica: it takes each shard's parameters from that shard's owner only
            ShardOwners.start(system, plane, owners, plane.layout().shardCount(),
                    config.getInt("pekko.cluster.sharding.number-of-shards"));
        }

        if (nodeSettings.roles().contains("trainer")) {
            Backend backend = Backends.open(run.backend(), line -> LOG.warn("{}", line));
            TrainerBackend backends = new TrainerBackend(backend, backend instanceof io.tributary.kernels.cuda.CudaBackend,
                    () -> Backends.open(BackendMode.CPU, line -> LOG.warn("{}", line)),
                    run.trainer().gpuFailuresBeforeCpu(), line -> {
                        LOG.error("{}", line);
                        System.out.println(line);
                    });
            Dataset trainSet = model.trainSet().get();
            TrainerActor.Resources res = new TrainerActor.Resources(node.address().toString(), backends, model.shape(),
                    trainSet, model.seed(), plane, coordinatorProxy, shards, run.dataPlane().requestTimeout(),
                    run.trainer().slowdown(), trainerMetrics, run.trainer().attack(), run.trainer().lieZ(),
                    model.optimizer(),
                    ShardSettings.encoding(config, "tributary.data-plane.gradient-encoding"),
                    TrainerIdentities.signer(node.tls()));
            // A rewind (shards rolled back) restarts the trainer at once and quietly; failures restart it with back-off.
            Behavior<TrainerCommand> rewindable = Behaviors.supervise(TrainerActor.create(res))
                    .onFailure(TrainerActor.RewindRequested.class, SupervisorStrategy.restart().withLoggingEnabled(false));
            Behavior<TrainerCommand> trainer = Behaviors.supervise(rewindable)
                    .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofSeconds(1), Duration.ofSeconds(15), 0.2));
            system.systemActorOf(trainer, "trainer", DispatcherSelector.fromConfig("tributary.dispatchers.trainer"));
            LOG.info("trainer started on {} ({})", plane.endpoint(), backend.description());
        }
        return new ClusterTraining(plane);
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
