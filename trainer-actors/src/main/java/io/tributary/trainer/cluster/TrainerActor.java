package io.tributary.trainer.cluster;

import io.tributary.protocol.ConsistencyPolicy;
import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.ps.node.FloatChecksum;
import io.tributary.ps.node.TrainingMetrics;
import io.tributary.ps.node.NodeDataPlane;
import io.tributary.ps.node.ParameterAssembler;
import io.tributary.protocol.ProtocolRegistry;
import io.tributary.protocol.TrainingProtocol.Assignment;
import io.tributary.protocol.TrainingProtocol.ClockFloor;
import io.tributary.protocol.TrainingProtocol.CoordinatorCommand;
import io.tributary.protocol.TrainingProtocol.EmptyContribution;
import io.tributary.protocol.TrainingProtocol.LeaseExtended;
import io.tributary.protocol.TrainingProtocol.Finish;
import io.tributary.protocol.TrainingProtocol.ParamsSent;
import io.tributary.protocol.TrainingProtocol.RegisterTrainer;
import io.tributary.protocol.TrainingProtocol.Rejected;
import io.tributary.protocol.TrainingProtocol.RequestParams;
import io.tributary.protocol.TrainingProtocol.ResendGradient;
import io.tributary.protocol.TrainingProtocol.Rewind;
import io.tributary.protocol.TrainingProtocol.ShardCommand;
import io.tributary.protocol.TrainingProtocol.ShardMoved;
import io.tributary.protocol.TrainingProtocol.ShardReply;
import io.tributary.protocol.TrainingProtocol.StepDone;
import io.tributary.protocol.TrainingProtocol.TrainerCommand;
import io.tributary.protocol.WorkPlan;
import io.tributary.ps.shard.ParameterShard;
import io.tributary.protocol.ShardLayout;
import io.tributary.ps.wire.FrameType;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.EpochSequence;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The trainer of one node: registers with the coordinator, receives its assignment and the work plans
 * (which samples it computes at each step, up to its lease), then loops
 * pull (parameters from every shard, over the data plane) → compute (forward and backward on its
 * backend, on the dispatcher this actor runs on) → push (each shard's gradient slice over the data
 * plane). Two Pekko Streams graphs feed it: the input pipeline ({@link BatchPipeline}, batches
 * gathered ahead with back-pressure) and the gradient push stream (sends a step's slices off the
 * compute thread, double-buffered). Its supervisor restarts it with back-off when it fails.
 */
public final class TrainerActor extends AbstractBehavior<TrainerCommand> {

    /** Where the input pipeline and the gradient push stream run (config path). */
    public static final String PIPELINE_DISPATCHER = "tributary.dispatchers.pipeline";

    /** Everything a trainer needs from its node. */
    public record Resources(String nodeId, TrainerBackend backends, ModelSpec spec, Dataset train, long seed,
                            NodeDataPlane dataPlane, ActorRef<CoordinatorCommand> coordinator,
                            Function<Integer, EntityRef<ShardCommand>> shards, Duration requestTimeout,
                            double slowdown, TrainingMetrics metrics, Attack attack, double lieZ) {
        public Resources {
            if (!(slowdown >= 1.0)) {
                throw new IllegalArgumentException("tributary.trainer.slowdown = " + slowdown + " is invalid: it must be >= 1.0");
            }
        }

        /** The backend to compute on now (the CPU after a fallback from a failing GPU). */
        public Backend backend() {
            return backends.current();
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

    /** The input pipeline gathered a batch ({@link BatchPipeline.Batch}) or failed (a {@link RuntimeException}). */
    record BatchReady(BatchPipeline from, Object batchOrFailure) implements TrainerCommand {
    }

    /**
     * One step's gradient on its way to the shards; {@code onlyShard} >= 0: a slice sent again to that
     * shard alone (it asked: {@link ResendGradient}), not reported as a step.
     */
    record Push(long step, float[] gradient, float loss, int samples, long waitNanos, long computeNanos,
                long floorAtRequest, int onlyShard) {
    }

    /** The push stream sent a step's gradient; CRC32 per shard slice as sent. */
    record Pushed(Push push, long pushNanos, java.util.List<Long> checksums) implements TrainerCommand {
    }

    /**
     * Thrown on {@link Rewind}: the supervisor restarts the actor at once (without logging it as a
     * failure), and the new one registers again and gets an assignment at the rewound step.
     */
    public static final class RewindRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RewindRequested(String message) {
            super(message, null, false, false);
        }
    }

    private final Resources res;
    private final TimerScheduler<TrainerCommand> timers;
    private final ActorRef<ShardReply> paramsSentAdapter;
    private final ShardLayout layout;
    private final String[] shardEndpoints;
    private final ParameterAssembler assembler;
    private Assignment assignment;
    private Mlp model;
    /** Samples the model's and the input tensors' buffers hold at most (grows with a plan's larger batch). */
    private int capacity;
    /** The coordinator's work plans by first step: the one for step s is the last from at or before s. */
    private final java.util.TreeMap<Long, WorkPlan> plans = new java.util.TreeMap<>();
    private long leasedUntil;
    /** Batches asked of the pipeline are those of steps [step, requestedUpTo). */
    private long requestedUpTo;
    private final java.util.ArrayDeque<BatchPipeline.Batch> readyBatches = new java.util.ArrayDeque<>();
    /** Per gradient buffer: that step had no samples (an empty contribution was sent). */
    private final boolean[] emptyStep = new boolean[2];
    private Tensor input;
    private Tensor labels;
    private final float[][] gradBuffers = new float[2][];
    private Attack.Corruptor corruptor;
    private BatchPipeline pipeline;
    private BatchPipeline.Batch batch;
    private BoundedSourceQueue<Push> pushes;
    private final FloatChecksum pushChecksum = new FloatChecksum();
    private long step;
    private long clockFloor = -1;
    private long lastParamsVersion = -1;
    private long floorAtRequest;
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
        this.paramsSentAdapter = ctx.messageAdapter(ShardReply.class, p -> (TrainerCommand) p);
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
                .onMessage(ResendGradient.class, this::onResendGradient)
                .onMessage(ShardMoved.class, this::onShardMoved)
                .onMessage(ParamsReady.class, this::onParamsReady)
                .onMessage(RequestTimeout.class, this::onRequestTimeout)
                .onMessage(BatchReady.class, this::onBatchReady)
                .onMessage(Pushed.class, this::onPushed)
                .onMessage(ClockFloor.class, this::onClockFloor)
                .onMessage(WorkPlan.class, this::onWorkPlan)
                .onMessage(LeaseExtended.class, this::onLease)
                .onMessage(Rewind.class, r -> {
                    getContext().getLog().warn("trainer {}: rewinding to step {}: {}", assignment == null ? "-"
                            : assignment.trainerId(), r.step(), r.reason());
                    throw new RewindRequested("rewind to step " + r.step());
                })
                .onMessage(Finish.class, f -> {
                    getContext().getLog().info("run finished: {}", f.reason());
                    return Behaviors.stopped();
                })
                .onSignal(PostStop.class, s -> {
                    release();
                    return this;
                })
                .onSignal(PreRestart.class, s -> {
                    release();
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
        EpochSequence sequence = new EpochSequence(res.train().count(), a.partitionCount(), a.localBatch(),
                a.stepsPerEpoch(), res.seed());
        capacity = a.localBatch();
        model = new Mlp(res.spec(), res.backend(), capacity);
        input = res.backend().allocate(capacity * res.train().features());
        labels = res.backend().allocate(capacity);
        gradBuffers[0] = new float[model.parameterCount()];
        gradBuffers[1] = new float[model.parameterCount()];
        corruptor = res.attack().corruptor(model.parameterCount(), (float) res.lieZ());
        step = a.startStep();
        requestedUpTo = step;
        plans.headMap(step, false).entrySet().removeIf(e -> e.getValue().to() <= step);
        Materializer materializer = Materializer.createMaterializer(getContext());
        ActorRef<TrainerCommand> self = getContext().getSelf();
        BatchPipeline[] made = new BatchPipeline[1];
        made[0] = new BatchPipeline(res.train(), sequence, capacity, PIPELINE_DISPATCHER, materializer,
                b -> self.tell(new BatchReady(made[0], b)));
        pipeline = made[0];
        pushes = Source.<Push>queue(2)
                .map(this::sendGradient)
                .withAttributes(ActorAttributes.dispatcher(PIPELINE_DISPATCHER))
                .to(Sink.foreach(self::tell))
                .run(materializer);
        getContext().getLog().info("trainer {}: steps {}..{} ({} policy), batch {} while the work plan is even "
                        + "({} samples per step over the run's first {} trainers)", a.trainerId(), step, a.totalSteps(),
                a.policy().configName(), a.localBatch(), a.localBatch() * a.partitionCount(), a.partitionCount());
        requestBatches();
        requestParams();
        return this;
    }

    private void release() {
        res.dataPlane().unhostReplica(NodeDataPlane.TRAINER_REPLICA, assembler);
        if (pipeline != null) {
            pipeline.close();
        }
    }

    private boolean boundedStaleness() {
        return assignment.policy() == ConsistencyPolicy.BOUNDED_STALENESS;
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
        if (awaitingParams && t.step() == step && paramsReady) {
            WorkPlan plan = planFor(step);
            getContext().getLog().warn("trainer {}: the parameters of step {} are here but not its batch after {} "
                    + "(leased until step {}, {}); waiting for the coordinator", assignment.trainerId(), step,
                    res.requestTimeout(), leasedUntil, plan == null ? "no work plan covers it" : "work plan " + plan.id());
            timers.startSingleTimer("request", new RequestTimeout(step), res.requestTimeout());
        } else if (awaitingParams && t.step() == step) {
            getContext().getLog().warn("trainer {}: parameters for step {} did not arrive within {}; asking again",
                    assignment.trainerId(), step, res.requestTimeout());
            requestParams();
        }
        return this;
    }

    /**
     * A shard has not got this trainer's slice of the step it waits on (the shard moved to another
     * node, or the frames were lost): send that slice again to where the shard is now. Sync only; the
     * gradient of the last step is still in its buffer, since the next step waits for its parameters.
     */
    private Behavior<TrainerCommand> onResendGradient(ResendGradient r) {
        if (assignment == null || boundedStaleness() || !awaitingParams || r.step() != step - 1 || r.shard() < 0
                || r.shard() >= layout.shardCount()) {
            return this; // not the step in hand (already past it, or not started)
        }
        shardEndpoints[r.shard()] = r.shardEndpoint();
        if (emptyStep[(int) (r.step() & 1)]) {
            res.shards().apply(r.shard()).tell(new EmptyContribution(assignment.trainerId(), r.step()));
            return this;
        }
        QueueOfferResult offered = pushes.offer(new Push(r.step(), gradBuffers[(int) (r.step() & 1)], 0f, 0, 0, 0, 0,
                r.shard()));
        if (offered != QueueOfferResult.enqueued()) {
            getContext().getLog().warn("trainer {}: shard {} asked for step {} again but the push stream is full ({}); "
                    + "it asks again", assignment.trainerId(), r.shard(), r.step(), offered);
        } else {
            getContext().getLog().info("trainer {}: sending step {} to shard {} again, now at {}", assignment.trainerId(),
                    r.step(), r.shard(), r.shardEndpoint());
        }
        return this;
    }

    /** A shard moved: the request waiting on it may have been lost on the way, so ask it again. */
    private Behavior<TrainerCommand> onShardMoved(ShardMoved m) {
        if (assignment == null || !awaitingParams || m.shard() < 0 || m.shard() >= layout.shardCount()) {
            return this;
        }
        long minVersion = boundedStaleness() ? lastParamsVersion + 1 : step;
        res.shards().apply(m.shard()).tell(new RequestParams(assignment.trainerId(), res.dataPlane().endpoint(), minVersion,
                paramsSentAdapter));
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
        if (!awaitingParams || !paramsReady || readyBatches.isEmpty()
                || Arrays.stream(shardEndpoints).anyMatch(e -> e == null)) {
            return;
        }
        batch = readyBatches.peek();
        if (batch.step() != step) {
            throw new IllegalStateException("the input pipeline gathered step " + batch.step() + " where step " + step
                    + " was due");
        }
        readyBatches.poll();
        awaitingParams = false;
        timers.cancel("request");
        if (batch.size() == 0) {
            emptyStep();
            return;
        }
        Backend b = res.backend();
        long t0 = System.nanoTime();
        try {
            computeStep(b);
        } catch (RuntimeException e) {
            if (res.backends().failed(e)) {
                getContext().getLog().warn("trainer {}: fell back to the CPU backend after {} GPU failures", assignment
                        .trainerId(), res.backends().gpuFailures());
            }
            throw e;
        }
        finishStep(t0);
    }

    /** The step just computed (set by {@link #computeStep}, read by {@link #finishStep}). */
    private float stepLoss;
    private float[] stepGrad;
    private int stepSamples;

    /**
     * No samples for this trainer in this step (its plan slice is empty): every shard is told so, so
     * that the step can close, and the coordinator counts the step; then on to the next.
     */
    private void emptyStep() {
        pipeline.release(batch);
        batch = null;
        emptyStep[(int) (step & 1)] = true;
        for (int k = 0; k < layout.shardCount(); k++) {
            res.shards().apply(k).tell(new EmptyContribution(assignment.trainerId(), step));
        }
        res.coordinator().tell(new StepDone(assignment.trainerId(), step, 0f, 0, 0, 0, floorAtRequest,
                java.util.List.of()));
        step++;
        requestBatches();
        requestParams();
    }

    /** Makes room for a batch of {@code n} samples (a plan gave this trainer more than any before). */
    private void ensureCapacity(int n, Backend b) {
        if (n <= capacity) {
            return;
        }
        getContext().getLog().info("trainer {}: batch of {} samples in step {}: the model's buffers grow from {}",
                assignment.trainerId(), n, step, capacity);
        capacity = n;
        model = new Mlp(res.spec(), b, capacity);
        input = b.allocate(capacity * res.train().features());
        labels = b.allocate(capacity);
    }

    /** Uploads the parameters and the batch, computes the gradient and downloads it (all on the backend). */
    private void computeStep(Backend b) {
        int n = batch.size();
        ensureCapacity(n, b);
        b.upload(assembler.parameters(), 0, model.parameters());
        b.upload(batch.features(), 0, n == capacity ? input : input.slice(0, n * res.train().features()));
        b.upload(batch.labels(), 0, n == capacity ? labels : labels.slice(0, n));
        pipeline.release(batch);
        batch = null;
        emptyStep[(int) (step & 1)] = false;
        stepLoss = model.computeGradients(input, labels, n);
        stepGrad = gradBuffers[(int) (step & 1)];
        stepSamples = n;
        b.download(model.gradients(), stepGrad, 0);
    }

    /** Corrupts the gradient if this trainer attacks, sleeps if it straggles, pushes it and asks for the next parameters. */
    private void finishStep(long t0) {
        float[] grad = stepGrad;
        float loss = stepLoss;
        int n = stepSamples;
        corruptor.apply(grad);
        WorkPlan plan = planFor(step);
        float factor = plan == null ? 1f : plan.scale(plan.indexOf(assignment.trainerId()), step);
        if (factor != 1f) {
            // mean rule, unequal batches: the mean over the contributions is then the mean over the samples
            for (int i = 0; i < grad.length; i++) {
                grad[i] *= factor;
            }
        }
        long t1 = System.nanoTime();
        if (res.slowdown() > 1.0) {
            straggle((long) ((res.slowdown() - 1.0) * (t1 - t0)));
            t1 = System.nanoTime();
        }
        QueueOfferResult offered = pushes.offer(new Push(step, grad, loss, n, t0 - requestedAt, t1 - t0, floorAtRequest,
                -1));
        if (offered != QueueOfferResult.enqueued()) {
            throw new IllegalStateException("gradient push stream refused step " + step + ": " + offered);
        }
        step++;
        requestBatches();
        if (!boundedStaleness()) {
            // Sync: the shards cannot close this step, so parameters of the next cannot come, before
            // this push is done; asking now only overlaps the request with the push.
            requestParams();
        }
    }

    /** The gradient push stage finished sending step {@code p.step}'s slices (called on this actor). */
    private Behavior<TrainerCommand> onPushed(Pushed done) {
        Push p = done.push();
        if (p.onlyShard() >= 0) {
            return this; // a slice sent again: the step was reported when it was first pushed
        }
        res.coordinator().tell(new StepDone(assignment.trainerId(), p.step(), p.loss(), p.samples(), p.computeNanos(),
                done.pushNanos(), p.floorAtRequest(), done.checksums()));
        TrainingMetrics m = res.metrics();
        m.trainerSteps.inc();
        m.trainerSamples.inc(p.samples());
        m.trainerWaitSeconds.observe(p.waitNanos() / 1e9);
        m.trainerComputeSeconds.observe(p.computeNanos() / 1e9);
        m.trainerPushSeconds.observe(done.pushNanos() / 1e9);
        m.trainerStaleness.set(boundedStaleness() ? p.step() - p.floorAtRequest() : 0);
        m.bytesSent.labelValues("gradient").inc(4.0 * p.gradient().length);
        waitNanos += p.waitNanos();
        computeNanos += p.computeNanos();
        pushNanos += done.pushNanos();
        if ((p.step() + 1) % 100 == 0) {
            getContext().getLog().info("trainer {}: step {}: per step {} ms waiting for parameters, {} ms computing, "
                    + "{} ms pushing gradients", assignment.trainerId(), p.step() + 1, String.format("%.1f", waitNanos / 1e8),
                    String.format("%.1f", computeNanos / 1e8), String.format("%.1f", pushNanos / 1e8));
            waitNanos = 0;
            computeNanos = 0;
            pushNanos = 0;
        }
        if (boundedStaleness()) {
            requestParams();
        }
        return this;
    }

    /** The plan step {@code s} is computed under, or null when none has come yet. */
    private WorkPlan planFor(long s) {
        java.util.Map.Entry<Long, WorkPlan> e = plans.floorEntry(s);
        return e != null && e.getValue().covers(s) ? e.getValue() : null;
    }

    /** Asks the pipeline for the batches of the next two steps, as far as the plans and the lease reach. */
    private void requestBatches() {
        if (assignment == null) {
            return;
        }
        while (requestedUpTo < step + 2 && requestedUpTo < leasedUntil && requestedUpTo < assignment.totalSteps()) {
            WorkPlan plan = planFor(requestedUpTo);
            if (plan == null) {
                return; // the next plan (a new epoch, or after a change) is on its way with the lease
            }
            pipeline.request(requestedUpTo, plan, plan.indexOf(assignment.trainerId()));
            requestedUpTo++;
        }
    }

    /**
     * A work plan from the coordinator: it holds from its first step on and replaces any plan from
     * there. It never starts below a step this trainer was leased, so no batch already gathered changes.
     */
    private Behavior<TrainerCommand> onWorkPlan(WorkPlan p) {
        if (p.runId() != res.dataPlane().runId()) {
            return this;
        }
        WorkPlan known = plans.get(p.from());
        if (known != null && known.id() == p.id()) {
            leasedUntil = Math.max(leasedUntil, p.leasedUntil());
            return this; // sent again (an answer to a repeated registration)
        }
        if (assignment != null && p.from() < requestedUpTo && requestedUpTo > assignment.startStep()) {
            throw new IllegalStateException("work plan " + p.id() + " starts at step " + p.from() + " but this trainer "
                    + "already gathered the batches up to step " + requestedUpTo + " under the plan before it; "
                    + "restarting to register again");
        }
        plans.tailMap(p.from(), true).clear();
        plans.put(p.from(), p);
        while (plans.size() > 1 && plans.firstEntry().getValue().to() <= step) {
            plans.pollFirstEntry();
        }
        leasedUntil = Math.max(leasedUntil, p.leasedUntil());
        int index = assignment == null ? -1 : p.indexOf(assignment.trainerId());
        getContext().getLog().info("trainer {}: work plan {} for steps {}..{} of epoch {}: {}",
                assignment == null ? "-" : assignment.trainerId(), p.id(), p.from(), p.to() - 1, p.epoch(),
                index < 0 ? "no batch (not in the plan)" : "batch of " + p.sliceSize(index, p.from()) + " at step " + p.from());
        requestBatches();
        return this;
    }

    private Behavior<TrainerCommand> onLease(LeaseExtended l) {
        if (l.runId() == res.dataPlane().runId() && l.until() > leasedUntil) {
            leasedUntil = l.until();
            requestBatches();
        }
        return this;
    }

    private Behavior<TrainerCommand> onBatchReady(BatchReady r) {
        if (r.from() != pipeline) {
            return this; // gathered for this actor before it restarted: the restarted one asks again
        }
        if (r.batchOrFailure() instanceof RuntimeException e) {
            throw new IllegalStateException("the input pipeline could not gather a batch: " + e.getMessage(), e);
        }
        readyBatches.add((BatchPipeline.Batch) r.batchOrFailure());
        maybeCompute();
        return this;
    }

    /** Sends one step's gradient slices to their shards; runs in the push stream, off this actor. */
    private Pushed sendGradient(Push p) {
        long t = System.nanoTime();
        if (p.onlyShard() >= 0) {
            int k = p.onlyShard();
            res.dataPlane().send(shardEndpoints[k], FrameType.GRADIENT, assignment.trainerId(), k, 0, p.step(),
                    p.gradient(), layout.offset(k), layout.length(k));
            return new Pushed(p, System.nanoTime() - t, java.util.List.of());
        }
        Long[] sums = new Long[layout.shardCount()];
        for (int k = 0; k < layout.shardCount(); k++) {
            sums[k] = pushChecksum.of(p.gradient(), layout.offset(k), layout.length(k));
            res.dataPlane().send(shardEndpoints[k], FrameType.GRADIENT, assignment.trainerId(), k, 0, p.step(),
                    p.gradient(), layout.offset(k), layout.length(k));
        }
        return new Pushed(p, System.nanoTime() - t, java.util.List.of(sums));
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
