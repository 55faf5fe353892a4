package io.tributary.trainer.cluster;

import io.tributary.kernels.Backend;
import io.tributary.protocol.ProtocolRegistry;
import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.TrainerProtocol.Assignment;
import io.tributary.protocol.TrainerProtocol.ClockFloor;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.ShardProtocol.EmptyContribution;
import io.tributary.protocol.TrainerProtocol.Finish;
import io.tributary.protocol.TrainerProtocol.LeaseExtended;
import io.tributary.protocol.TrainerProtocol.ParamsSent;
import io.tributary.protocol.CoordinatorProtocol.RegisterTrainer;
import io.tributary.protocol.RegistrationSigner;
import io.tributary.protocol.TrainerProtocol.Rejected;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.ShardProtocol.SetQuorum;
import io.tributary.protocol.TrainerProtocol.ResendGradient;
import io.tributary.protocol.TrainerProtocol.Rewind;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.TrainerProtocol.ShardMoved;
import io.tributary.protocol.ShardProtocol.ShardReply;
import io.tributary.protocol.CoordinatorProtocol.StepDone;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import io.tributary.protocol.WorkPlan;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.dataplane.ParameterAssembler;
import io.tributary.protocol.ConsistencyPolicy;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.wire.Encoding;
import io.tributary.ps.shard.ParameterShard;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.EpochSequence;
import io.tributary.trainer.model.ModelShape;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * The trainer of one node: registers with the coordinator, receives its assignment and the work plans
 * (which samples it computes at each step, up to its lease), then loops
 * pull (parameters from every shard, over the data plane) → compute (forward and backward on its
 * backend, on the dispatcher this actor runs on) → push (each shard's gradient slice over the data
 * plane). Two Pekko Streams graphs feed it: the input pipeline ({@link BatchPipeline}, batches
 * gathered ahead with back-pressure) and the gradient push stream (sends a step's slices off the
 * compute thread, double-buffered). Its supervisor restarts it with back-off when it fails.
 *
 * <p>The actor routes and runs the step loop; plain classes it owns keep the books: {@link WorkPlans},
 * {@link ParameterFetch}, {@link ModelStep}, {@link GradientPush} and {@link StepTimes}.
 */
public final class TrainerActor extends AbstractBehavior<TrainerCommand> {

    /** Where the input pipeline and the gradient push stream run (config path). */
    public static final String PIPELINE_DISPATCHER = "tributary.dispatchers.pipeline";

    /** Everything a trainer needs from its node; {@code signer} signs its registration with the node's TLS key. */
    public record Resources(String nodeId, TrainerBackend backends, ModelShape spec, Dataset train, long seed,
                            NodeDataPlane dataPlane, ActorRef<CoordinatorCommand> coordinator,
                            Function<Integer, EntityRef<ShardCommand>> shards, Duration requestTimeout,
                            double slowdown, TrainerMetrics metrics, Attack attack, double lieZ,
                            OptimizerSettings innerOptimizer, Encoding gradientEncoding, RegistrationSigner signer) {
        public Resources {
            java.util.Objects.requireNonNull(signer, "signer (RegistrationSigner.NONE where TLS is off)");
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

    /** The push stream sent a step's gradient; CRC32 per shard slice as sent. */
    record Pushed(GradientPush.Push push, long pushNanos, List<Long> checksums) implements TrainerCommand {
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
    private final ParameterAssembler assembler;
    private final WorkPlans plans = new WorkPlans();
    private final ParameterFetch fetch;
    private final StepTimes times;
    private final ArrayDeque<BatchPipeline.Batch> readyBatches = new ArrayDeque<>();
    private Assignment assignment;
    private ModelStep model;
    private GradientPush gradients;
    private Attack.Corruptor corruptor;
    /** A data-plane liar's frames (hostile-member suite), or null. */
    private HostileFrames hostile;
    /** Whether the control-messages attacker has said what it does. */
    private boolean controlLiesTold;
    private BatchPipeline pipeline;
    /** The step in hand: the next to compute. */
    private long step;

    public static Behavior<TrainerCommand> create(Resources resources) {
        return Behaviors.withTimers(timers -> Behaviors.setup(ctx -> new TrainerActor(ctx, timers, resources)));
    }

    private TrainerActor(ActorContext<TrainerCommand> ctx, TimerScheduler<TrainerCommand> timers, Resources res) {
        super(ctx);
        this.res = res;
        this.timers = timers;
        this.layout = res.dataPlane().layout();
        this.fetch = new ParameterFetch(layout.shardCount());
        this.times = new StepTimes(res.metrics());
        ActorRef<TrainerCommand> self = ctx.getSelf();
        this.paramsSentAdapter = ctx.messageAdapter(ShardReply.class, p -> (TrainerCommand) p);
        // a shard's owner became known, or changed, after its frames were refused as not the owner's: ask it again
        ctx.getSystem().eventStream().tell(new org.apache.pekko.actor.typed.eventstream.EventStream.Subscribe<>(
                io.tributary.dataplane.ShardOwnerKnown.class,
                ctx.messageAdapter(io.tributary.dataplane.ShardOwnerKnown.class, k -> new ShardMoved(k.shard(), -1))));
        this.assembler = new ParameterAssembler(layout, v -> self.tell(new ParamsReady(v)));
        res.dataPlane().hostReplica(NodeDataPlane.TRAINER_REPLICA, assembler);
        register();
        timers.startTimerWithFixedDelay("register", new RegisterTick(), Duration.ofSeconds(2));
    }

    private void register() {
        String endpoint = res.dataPlane().endpoint();
        String signature = res.signer().sign(RegisterTrainer.signedFields(res.dataPlane().runId(), res.nodeId(), endpoint,
                getContext().getSelf().path().toStringWithoutAddress()));
        res.coordinator().tell(new RegisterTrainer(res.nodeId(), ProtocolRegistry.PROTOCOL_VERSION,
                res.backend().description(), endpoint, getContext().getSelf(), signature));
    }

    private String trainerName() {
        return assignment == null ? "-" : Integer.toString(assignment.trainerId());
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
                    getContext().getLog().warn("trainer {}: rewinding to step {}: {}", trainerName(), r.step(),
                            r.reason());
                    throw new RewindRequested("rewind to step " + r.step());
                })
                .onMessage(Finish.class, f -> {
                    getContext().getLog().info("run finished: {}", f.reason());
                    return Behaviors.stopped();
                })
                .onSignal(PostStop.class, s -> release())
                .onSignal(PreRestart.class, s -> release())
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
        boolean localSgd = a.policy() == ConsistencyPolicy.LOCAL_SGD;
        // local SGD: the model holds one inner step's samples; the round's batch is innerSteps of them
        model = new ModelStep(res.spec(), res.backend(), innerBatch(a.localBatch()));
        if (localSgd) {
            model.innerOptimizer(res.innerOptimizer(), res.backend());
            times.logEvery(StepTimes.LOG_EVERY_ROUNDS);
        }
        gradients = new GradientPush(res.dataPlane(), fetch, a.trainerId(), model.parameterCount(),
                res.gradientEncoding());
        times.encoding(res.gradientEncoding());
        corruptor = res.attack().corruptor(model.parameterCount(), (float) res.lieZ());
        hostile = res.attack().framesLie() ? new HostileFrames(res.attack(), res.dataPlane(), model.parameterCount()) : null;
        fetch.assign(a.policy(), a.staleness(), a.totalSteps());
        step = a.startStep();
        plans.start(a.trainerId(), step);
        Materializer materializer = Materializer.createMaterializer(getContext());
        ActorRef<TrainerCommand> self = getContext().getSelf();
        BatchPipeline[] made = new BatchPipeline[1];
        made[0] = new BatchPipeline(res.train(), sequence, model.capacity(), PIPELINE_DISPATCHER, materializer,
                b -> self.tell(new BatchReady(made[0], b)));
        pipeline = made[0];
        gradients.start(materializer, PIPELINE_DISPATCHER, self);
        getContext().getLog().info("trainer {}: steps {}..{} ({} policy), batch {} while the work plan is even "
                        + "({} samples per step over the run's first {} trainers){}", a.trainerId(), step, a.totalSteps(),
                a.policy().configName(), a.localBatch(), a.localBatch() * a.partitionCount(), a.partitionCount(),
                localSgd ? "; a step is a round of " + a.innerSteps() + " inner " + res.innerOptimizer().typeName()
                        + " steps of " + innerBatch(a.localBatch()) + " samples" : "");
        requestBatches();
        requestParams();
        return this;
    }

    /**
     * The actor stops or restarts: routing, the pipeline and the model's tensors go (a restarted
     * actor makes a model of its own, and without this each restart left one more on the GPU).
     */
    private Behavior<TrainerCommand> release() {
        res.dataPlane().unhostReplica(NodeDataPlane.TRAINER_REPLICA, assembler);
        if (pipeline != null) {
            pipeline.close();
        }
        if (model != null) {
            ModelStep freed = model;
            model = null;
            try {
                freed.free();
            } catch (RuntimeException e) {
                // a GPU that failed may refuse the frees too; closing the backend (TrainerBackend) frees the rest
                getContext().getLog().warn("trainer {}: giving the model's tensors back to the backend failed ({}); "
                        + "they are freed when that backend closes", trainerName(), e.toString());
            }
        }
        return this;
    }

    private void requestParams() {
        long minVersion = fetch.begin(step, System.nanoTime());
        if (minVersion < 0) {
            return;
        }
        assembler.expect(minVersion);
        for (int k = 0; k < layout.shardCount(); k++) {
            askShard(k, minVersion);
        }
        timers.startSingleTimer("request", new RequestTimeout(step), res.requestTimeout());
    }

    private void askShard(int shard, long minVersion) {
        res.shards().apply(shard).tell(new RequestParams(assignment.trainerId(), res.dataPlane().endpoint(), minVersion,
                paramsSentAdapter));
    }

    private Behavior<TrainerCommand> onParamsSent(ParamsSent p) {
        fetch.shardAt(p.shard(), p.shardEndpoint());
        maybeCompute();
        return this;
    }

    private Behavior<TrainerCommand> onParamsReady(ParamsReady r) {
        fetch.arrived(r.version());
        maybeCompute();
        return this;
    }

    private Behavior<TrainerCommand> onRequestTimeout(RequestTimeout t) {
        if (fetch.awaiting() && t.step() == step && fetch.ready()) {
            WorkPlan plan = plans.planFor(step);
            getContext().getLog().warn("trainer {}: the parameters of step {} are here but not its batch after {} "
                    + "(leased until step {}, {}); waiting for the coordinator", assignment.trainerId(), step,
                    res.requestTimeout(), plans.leasedUntil(), plan == null ? "no work plan covers it" : "work plan "
                    + plan.id());
            timers.startSingleTimer("request", new RequestTimeout(step), res.requestTimeout());
        } else if (fetch.awaiting() && t.step() == step) {
            getContext().getLog().warn("trainer {}: parameters for step {} did not arrive within {}; asking again",
                    assignment.trainerId(), step, res.requestTimeout());
            requestParams();
        }
        return this;
    }

    /**
     * A shard moved (the coordinator says so after a hand-over; this node's shard owners after frames of it were
     * refused as not its owner's): the request waiting on it, or the frames it sent, may have been lost on the
     * way, so ask it again.
     */
    private Behavior<TrainerCommand> onShardMoved(ShardMoved m) {
        if (assignment == null || !fetch.awaiting() || m.shard() < 0 || m.shard() >= layout.shardCount()) {
            return this;
        }
        askShard(m.shard(), fetch.minVersion(step));
        return this;
    }

    private Behavior<TrainerCommand> onClockFloor(ClockFloor f) {
        fetch.clockFloor(f.slowestStep());
        if (assignment != null && !fetch.awaiting()) {
            requestParams();
        }
        return this;
    }

    private void maybeCompute() {
        if (!fetch.complete() || readyBatches.isEmpty()) {
            return;
        }
        BatchPipeline.Batch batch = readyBatches.peek();
        if (batch.step() != step) {
            throw new IllegalStateException("the input pipeline gathered step " + batch.step() + " where step " + step
                    + " was due");
        }
        readyBatches.poll();
        fetch.taken();
        timers.cancel("request");
        if (batch.size() == 0) {
            emptyStep(batch);
            return;
        }
        int n = batch.size(); // the batch goes back to the pipeline once uploaded
        Backend b = res.backend();
        long t0 = System.nanoTime();
        float loss;
        try {
            loss = computeStep(b, batch);
        } catch (RuntimeException e) {
            if (res.backends().failed(e)) {
                getContext().getLog().warn("trainer {}: fell back to the CPU backend after {} GPU failures", assignment
                        .trainerId(), res.backends().gpuFailures());
            }
            throw e;
        }
        finishStep(t0, loss, n);
    }

    /**
     * No samples for this trainer in this step (its plan slice is empty): every shard is told so, so
     * that the step can close, and the coordinator counts the step; then on to the next.
     */
    private void emptyStep(BatchPipeline.Batch batch) {
        pipeline.release(batch);
        gradients.markEmpty(step, true);
        for (int k = 0; k < layout.shardCount(); k++) {
            res.shards().apply(k).tell(new EmptyContribution(assignment.trainerId(), step));
        }
        res.coordinator().tell(new StepDone(assignment.trainerId(), step, 0f, 0, 0, 0, fetch.floorAtRequest(),
                List.of(), res.dataPlane().bytesSent()));
        step++;
        requestBatches();
        requestParams();
    }

    /** Samples of one inner step for a step's batch of {@code n} (n itself unless local SGD runs rounds). */
    private int innerBatch(int n) {
        int h = assignment.innerSteps();
        return Math.max(1, (n + h - 1) / h);
    }

    /**
     * Uploads the parameters and the batch, computes the gradient (local SGD: runs the round and
     * computes the pseudo-gradient) into its buffer; returns the loss.
     */
    private float computeStep(Backend b, BatchPipeline.Batch batch) {
        int n = batch.size();
        int needed = innerBatch(n);
        if (needed > model.capacity()) {
            getContext().getLog().info("trainer {}: batch of {} samples in step {}: the model's buffers grow from {}",
                    assignment.trainerId(), needed, step, model.capacity());
            model.grow(needed, b);
        }
        if (assignment.policy() == ConsistencyPolicy.LOCAL_SGD) {
            gradients.markEmpty(step, false);
            float loss = model.round(b, assembler.parameters(), batch.features(), batch.labels(), n,
                    assignment.innerSteps(), gradients.buffer(step));
            pipeline.release(batch);
            return loss;
        }
        model.load(b, assembler.parameters(), batch.features(), batch.labels(), n);
        pipeline.release(batch);
        gradients.markEmpty(step, false);
        return model.gradients(b, n, gradients.buffer(step));
    }

    /**
     * The {@code control-messages} attack (hostile-member suite): a quorum of this trainer alone, as the
     * coordinator would send it, to every shard, and a step report in the name of another trainer, each
     * signed by this node; the defence (docs/security.md) drops both and has this trainer quarantined.
     */
    private void controlLies() {
        int victim = assignment.trainerId() == 0 ? 1 : assignment.trainerId() - 1;
        if (!controlLiesTold) {
            controlLiesTold = true;
            getContext().getLog().warn("HOSTILE (tributary.trainer.attack = control-messages): trainer {} sends the"
                    + " coordinator's SetQuorum to the shards and step reports as trainer {} from step {} on",
                    assignment.trainerId(), victim, step);
        }
        SetQuorum alone = new SetQuorum(assignment.runId(), Long.MAX_VALUE / 2,
                java.util.Map.of(assignment.trainerId(), res.dataPlane().endpoint()), 0, res.coordinator());
        for (int k = 0; k < res.dataPlane().layout().shardCount(); k++) {
            res.shards().apply(k).tell(alone);
        }
        res.coordinator().tell(new StepDone(victim, step, 0f, 0, 0, 0, step, java.util.List.of(), 0L));
    }

    /** Corrupts the gradient if this trainer attacks, sleeps if it straggles, pushes it and asks for the next parameters. */
    private void finishStep(long t0, float loss, int n) {
        float[] grad = gradients.buffer(step);
        corruptor.apply(grad);
        if (hostile != null) {
            hostile.send(assignment.trainerId(), step, grad, fetch::shardEndpoint);
        }
        if (res.attack() == Attack.CONTROL_MESSAGES) {
            controlLies();
        }
        // mean rule, unequal batches: the mean over the contributions is then the mean over the samples
        gradients.scale(step, plans.scale(step));
        long t1 = System.nanoTime();
        if (res.slowdown() > 1.0) {
            straggle((long) ((res.slowdown() - 1.0) * (t1 - t0)));
            t1 = System.nanoTime();
        }
        QueueOfferResult offered = gradients.offer(new GradientPush.Push(step, grad, loss, n, t0 - fetch.requestedAt(),
                t1 - t0, fetch.floorAtRequest(), -1));
        if (offered != QueueOfferResult.enqueued()) {
            throw new IllegalStateException("gradient push stream refused step " + step + ": " + offered);
        }
        step++;
        requestBatches();
        if (!fetch.boundedStaleness()) {
            // Sync: the shards cannot close this step, so parameters of the next cannot come, before
            // this push is done; asking now only overlaps the request with the push.
            requestParams();
        }
    }

    /** An injected straggler: this trainer's dispatcher thread is its own, so sleeping blocks no one else. */
    private static void straggle(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The gradient push stage finished sending step {@code p.step}'s slices (called on this actor). */
    private Behavior<TrainerCommand> onPushed(Pushed done) {
        GradientPush.Push p = done.push();
        if (p.onlyShard() >= 0) {
            return this; // a slice sent again: the step was reported when it was first pushed
        }
        res.coordinator().tell(new StepDone(assignment.trainerId(), p.step(), p.loss(), p.samples(), p.computeNanos(),
                done.pushNanos(), p.floorAtRequest(), done.checksums(), res.dataPlane().bytesSent()));
        long staleness = fetch.boundedStaleness() ? p.step() - p.floorAtRequest() : 0;
        if (times.pushed(p, done.pushNanos(), staleness)) {
            getContext().getLog().info("trainer {}: step {}: per step {}", assignment.trainerId(), p.step() + 1,
                    times.perStep());
        }
        if (fetch.boundedStaleness()) {
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
        if (assignment == null || fetch.boundedStaleness() || !fetch.awaiting() || r.step() != step - 1
                || r.shard() < 0 || r.shard() >= layout.shardCount()) {
            return this; // not the step in hand (already past it, or not started)
        }
        fetch.shardAt(r.shard(), r.shardEndpoint());
        if (gradients.wasEmpty(r.step())) {
            res.shards().apply(r.shard()).tell(new EmptyContribution(assignment.trainerId(), r.step()));
            return this;
        }
        QueueOfferResult offered = gradients.offer(new GradientPush.Push(r.step(), gradients.buffer(r.step()), 0f, 0,
                0, 0, 0, r.shard()));
        if (offered != QueueOfferResult.enqueued()) {
            getContext().getLog().warn("trainer {}: shard {} asked for step {} again but the push stream is full ({}); "
                    + "it asks again", assignment.trainerId(), r.shard(), r.step(), offered);
        } else {
            getContext().getLog().info("trainer {}: sending step {} to shard {} again, now at {}", assignment.trainerId(),
                    r.step(), r.shard(), r.shardEndpoint());
        }
        return this;
    }

    /** Asks the pipeline for the batches of the next two steps, as far as the plans and the lease reach. */
    private void requestBatches() {
        if (assignment != null) {
            plans.requestBatches(step, assignment.totalSteps(), pipeline);
        }
    }

    /**
     * A work plan from the coordinator: it holds from its first step on and replaces any plan from
     * there. It never starts below a step this trainer was leased, so no batch already gathered changes.
     */
    private Behavior<TrainerCommand> onWorkPlan(WorkPlan p) {
        if (p.runId() != res.dataPlane().runId() || !plans.add(p, step)) {
            return this;
        }
        int index = assignment == null ? -1 : p.indexOf(assignment.trainerId());
        getContext().getLog().info("trainer {}: work plan {} for steps {}..{} of epoch {}: {}", trainerName(), p.id(),
                p.from(), p.to() - 1, p.epoch(),
                index < 0 ? "no batch (not in the plan)" : "batch of " + p.sliceSize(index, p.from()) + " at step " + p.from());
        requestBatches();
        return this;
    }

    private Behavior<TrainerCommand> onLease(LeaseExtended l) {
        if (l.runId() == res.dataPlane().runId() && plans.extendLease(l.until())) {
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

    /** The sharding entity id of shard {@code k}. */
    public static String entityId(int k) {
        return Integer.toString(k);
    }

    /** The entity type trainers address shards with. */
    public static EntityTypeKey<ShardCommand> shardKey() {
        return ParameterShard.KEY;
    }
}
