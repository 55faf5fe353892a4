package io.tributary.trainer.cluster;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.ps.node.FloatChecksum;
import io.tributary.ps.node.TrainingMetrics;
import io.tributary.ps.node.NodeDataPlane;
import io.tributary.ps.node.ParameterAssembler;
import io.tributary.ps.protocol.ProtocolRegistry;
import io.tributary.ps.protocol.TrainingProtocol.Assignment;
import io.tributary.ps.protocol.TrainingProtocol.ClockFloor;
import io.tributary.ps.protocol.TrainingProtocol.CoordinatorCommand;
import io.tributary.ps.protocol.TrainingProtocol.Finish;
import io.tributary.ps.protocol.TrainingProtocol.ParamsSent;
import io.tributary.ps.protocol.TrainingProtocol.RegisterTrainer;
import io.tributary.ps.protocol.TrainingProtocol.Rejected;
import io.tributary.ps.protocol.TrainingProtocol.RequestParams;
import io.tributary.ps.protocol.TrainingProtocol.ShardCommand;
import io.tributary.ps.protocol.TrainingProtocol.StepDone;
import io.tributary.ps.protocol.TrainingProtocol.TrainerCommand;
import io.tributary.ps.shard.ParameterShard;
import io.tributary.ps.shard.ShardLayout;
import io.tributary.ps.wire.FrameType;
import io.tributary.trainer.data.BatchIterator;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.Partitioner;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The trainer of one node: registers with the coordinator, receives a data partition, then loops
 * pull (parameters from every shard, over the data plane) → compute (forward and backward on its
 * backend, on the dispatcher this actor runs on) → push (each shard's gradient slice over the data
 * plane). Its supervisor restarts it with back-off when it fails.
 */
public final class TrainerActor extends AbstractBehavior<TrainerCommand> {

    /** Everything a trainer needs from its node. */
    public record Resources(String nodeId, Backend backend, ModelSpec spec, Dataset train, long seed,
                            NodeDataPlane dataPlane, ActorRef<CoordinatorCommand> coordinator,
                            Function<Integer, EntityRef<ShardCommand>> shards, Duration requestTimeout,
                            double slowdown, TrainingMetrics metrics) {
        public Resources {
            if (!(slowdown >= 1.0)) {
                throw new IllegalArgumentException("tributary.trainer.slowdown = " + slowdown + " is invalid: it must be >= 1.0");
            }
        }
    }

    /** All shards' parameters of the requested version are in (from the receiver thread). */
    record ParamsReady(long version) implements TrainerCommand {
    }

    /** A parameter request went unanswered; ask again (a shard may have moved). */
    record RequestTimeout(long step) implements TrainerCommand {
    }

    /** Keeps asking the coordinator until it answers (the singleton may not be up yet). */
    record RegisterTick() implements TrainerCommand {
    }

    private final Resources res;
    private final TimerScheduler<TrainerCommand> timers;
    private final ActorRef<ParamsSent> paramsSentAdapter;
    private final ShardLayout layout;
    private final String[] shardEndpoints;
    private final ParameterAssembler assembler;
    private Assignment assignment;
    private Mlp model;
    private BatchIterator batches;
    private Tensor input;
    private Tensor labels;
    private float[] gradHost;
    private long step;
    private long clockFloor = -1;
    private long lastParamsVersion = -1;
    private long floorAtRequest;
    private final FloatChecksum checksum = new FloatChecksum();
    private long requestedAt;
    private long waitNanos;
    private long computeNanos;
    private long pushNanos;
    private boolean paramsReady;
    private boolean awaitingParams;

    public static Behavior<TrainerCommand> create(Resources resources) {
        return Behaviors.withTimers(timers -> Behaviors.setup(ctx -> new TrainerActor(ctx, timers, resources)));
    }

    private TrainerActor(ActorContext<TrainerCommand> ctx, TimerScheduler<TrainerCommand> timers, Resources res) {
        super(ctx);
        this.res = res;
        this.timers = timers;
        this.layout = res.dataPlane().layout();
        this.shardEndpoints = new String[layout.shardCount()];
        ActorRef<TrainerCommand> self = ctx.getSelf();
        this.paramsSentAdapter = ctx.messageAdapter(ParamsSent.class, p -> p);
        this.assembler = new ParameterAssembler(layout, v -> self.tell(new ParamsReady(v)));
        res.dataPlane().hostReplica(NodeDataPlane.TRAINER_REPLICA, assembler);
        register();
        timers.startTimerWithFixedDelay("register", new RegisterTick(), Duration.ofSeconds(2));
    }

    private void register() {
        res.coordinator().tell(new RegisterTrainer(res.nodeId(), ProtocolRegistry.PROTOCOL_VERSION,
                res.backend().description(), res.dataPlane().endpoint(), getContext().getSelf()));
    }

    @Override
    public Receive<TrainerCommand> createReceive() {
        return newReceiveBuilder()
                .onMessage(RegisterTick.class, t -> {
                    if (assignment == null) {
                        register();
                    }
                    return this;
                })
                .onMessage(Assignment.class, this::onAssignment)
                .onMessage(Rejected.class, r -> {
                    getContext().getLog().error("the coordinator refused this trainer: {}", r.reason());
                    return Behaviors.stopped();
                })
                .onMessage(ParamsSent.class, this::onParamsSent)
                .onMessage(ParamsReady.class, this::onParamsReady)
                .onMessage(RequestTimeout.class, this::onRequestTimeout)
                .onMessage(ClockFloor.class, this::onClockFloor)
                .onMessage(Finish.class, f -> {
                    getContext().getLog().info("run finished: {}", f.reason());
                    return Behaviors.stopped();
                })
                .onSignal(PostStop.class, s -> {
                    res.dataPlane().unhostReplica(NodeDataPlane.TRAINER_REPLICA, assembler);
                    return this;
                })
                .build();
    }

    private Behavior<TrainerCommand> onAssignment(Assignment a) {
        if (assignment != null) {
            return this; // duplicate answer to a repeated registration
        }
        timers.cancel("register");
        if (a.runId() != res.dataPlane().runId()) {
            getContext().getLog().error("the coordinator runs run {} but this node's data plane is set for run {}: "
                    + "start every node with the same tributary.cluster.run-id", a.runId(), res.dataPlane().runId());
            return Behaviors.stopped();
        }
        assignment = a;
        int[] partition = Partitioner.partition(res.train().count(), a.partitionCount(), a.partitionIndex(), res.seed());
        batches = new BatchIterator(res.train(), partition, a.localBatch(), BatchIterator.PartialBatch.DROP,
                res.seed() + a.partitionIndex());
        model = new Mlp(res.spec(), res.backend(), a.localBatch());
        input = res.backend().allocate(a.localBatch() * res.train().features());
        labels = res.backend().allocate(a.localBatch());
        gradHost = new float[model.parameterCount()];
        step = a.startStep();
        batches.startEpoch((int) (step / a.stepsPerEpoch()));
        for (long s = 0; s < step % a.stepsPerEpoch(); s++) {
            batches.next();
        }
        getContext().getLog().info("trainer {}: partition {} of {} ({} samples), batch {}, steps {}..{} ({} policy)",
                a.trainerId(), a.partitionIndex(), a.partitionCount(), partition.length, a.localBatch(), step,
                a.totalSteps(), a.policy());
        requestParams();
        return this;
    }

    private boolean boundedStaleness() {
        return "bounded-staleness".equals(assignment.policy());
    }

    private void requestParams() {
        if (step >= assignment.totalSteps()) {
            return;
        }
        if (boundedStaleness() && step - Math.max(clockFloor, 0) > assignment.staleness()) {
            return; // wait for the slowest to catch up (ClockFloor)
        }
        // sync: exactly the version of this step; bounded staleness: anything newer than what we computed on
        long minVersion = boundedStaleness() ? lastParamsVersion + 1 : step;
        paramsReady = false;
        awaitingParams = true;
        floorAtRequest = Math.max(clockFloor, 0);
        requestedAt = System.nanoTime();
        assembler.expect(minVersion);
        for (int k = 0; k < layout.shardCount(); k++) {
            res.shards().apply(k).tell(new RequestParams(assignment.trainerId(), res.dataPlane().endpoint(), minVersion,
                    paramsSentAdapter));
        }
        timers.startSingleTimer("request", new RequestTimeout(step), res.requestTimeout());
    }

    private Behavior<TrainerCommand> onParamsSent(ParamsSent p) {
        shardEndpoints[p.shard()] = p.shardEndpoint();
        maybeCompute();
        return this;
    }

    private Behavior<TrainerCommand> onParamsReady(ParamsReady r) {
        paramsReady = true;
        lastParamsVersion = r.version();
        maybeCompute();
        return this;
    }

    private Behavior<TrainerCommand> onRequestTimeout(RequestTimeout t) {
        if (awaitingParams && t.step() == step) {
            getContext().getLog().warn("trainer {}: parameters for step {} did not arrive within {}; asking again",
                    assignment.trainerId(), step, res.requestTimeout());
            requestParams();
        }
        return this;
    }

    private Behavior<TrainerCommand> onClockFloor(ClockFloor f) {
        clockFloor = Math.max(clockFloor, f.slowestStep());
        if (assignment != null && !awaitingParams) {
            requestParams();
        }
        return this;
    }

    private void maybeCompute() {
        if (!awaitingParams || !paramsReady || Arrays.stream(shardEndpoints).anyMatch(e -> e == null)) {
            return;
        }
        awaitingParams = false;
        timers.cancel("request");
        Backend b = res.backend();
        long t0 = System.nanoTime();
        b.upload(assembler.parameters(), 0, model.parameters());
        if (!batches.next()) {
            batches.nextEpoch();
            batches.next();
        }
        int n = batches.size();
        b.upload(batches.features(), 0, input);
        b.upload(batches.labels(), 0, labels);
        float loss = model.computeGradients(input, labels, n);
        b.download(model.gradients(), gradHost, 0);
        long t1 = System.nanoTime();
        if (res.slowdown() > 1.0) {
            straggle((long) ((res.slowdown() - 1.0) * (t1 - t0)));
            t1 = System.nanoTime();
        }
        Long[] sums = new Long[layout.shardCount()];
        for (int k = 0; k < layout.shardCount(); k++) {
            sums[k] = checksum.of(gradHost, layout.offset(k), layout.length(k));
            res.dataPlane().send(shardEndpoints[k], FrameType.GRADIENT, assignment.trainerId(), k, 0, step, gradHost,
                    layout.offset(k), layout.length(k));
        }
        long t2 = System.nanoTime();
        res.coordinator().tell(new StepDone(assignment.trainerId(), step, loss, n, t1 - t0, t2 - t1, floorAtRequest,
                java.util.List.of(sums)));
        TrainingMetrics m = res.metrics();
        m.trainerSteps.inc();
        m.trainerSamples.inc(n);
        m.trainerWaitSeconds.observe((t0 - requestedAt) / 1e9);
        m.trainerComputeSeconds.observe((t1 - t0) / 1e9);
        m.trainerPushSeconds.observe((t2 - t1) / 1e9);
        m.trainerStaleness.set(boundedStaleness() ? step - floorAtRequest : 0);
        m.bytesSent.labelValues("gradient").inc(4.0 * gradHost.length);
        waitNanos += t0 - requestedAt;
        computeNanos += t1 - t0;
        pushNanos += t2 - t1;
        step++;
        if (step % 100 == 0) {
            getContext().getLog().info("trainer {}: step {}: per step {} ms waiting for parameters, {} ms computing, "
                    + "{} ms pushing gradients", assignment.trainerId(), step, String.format("%.1f", waitNanos / 1e8),
                    String.format("%.1f", computeNanos / 1e8), String.format("%.1f", pushNanos / 1e8));
            waitNanos = 0;
            computeNanos = 0;
            pushNanos = 0;
        }
        requestParams();
    }

    /** An injected straggler: this trainer's dispatcher thread is its own, so sleeping blocks no one else. */
    private static void straggle(long nanos) {
        try {
            java.util.concurrent.TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The sharding entity id of shard {@code k}. */
    public static String entityId(int k) {
        return Integer.toString(k);
    }

    /** The entity type trainers address shards with. */
    public static org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey<ShardCommand> shardKey() {
        return ParameterShard.KEY;
    }
}
