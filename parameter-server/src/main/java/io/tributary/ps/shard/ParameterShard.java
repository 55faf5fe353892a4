package io.tributary.ps.shard;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.StateKind;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.ShardProtocol.EmptyContribution;
import io.tributary.protocol.CoordinatorProtocol.HandOverDone;
import io.tributary.protocol.ShardProtocol.ReplicaAck;
import io.tributary.protocol.ShardProtocol.ResendCommits;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.ShardProtocol.RollbackShard;
import io.tributary.protocol.ShardProtocol.SetQuorum;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.protocol.CoordinatorProtocol.ShardRestored;
import io.tributary.protocol.CoordinatorProtocol.ShardStarted;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.ShardProtocol.StartShard;
import io.tributary.dataplane.ContributionSlots;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.ps.optim.Optimizer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One parameter shard, a Cluster Sharding entity on a {@code ps} node: it holds its slice of the
 * parameters and the optimizer state, collects the trainers' gradients for a step (through the
 * node's data plane, into per-trainer slots), closes the step by the consistency policy
 * ({@link SyncSteps} or {@link StalenessSteps}; checks, screens and the aggregation rule in
 * {@link StepAggregation}), applies the optimizer and advances its version. Parameters go out over
 * the data plane on request ({@link ParameterRequests}).
 *
 * <p>Its lifecycle is one behaviour per state: a new incarnation is {@code awaitingWord} until the
 * coordinator answers its {@link ShardStarted} (start fresh, take the state a previous owner handed
 * over, or roll back), then {@code serving}; a rollback ({@code restoring}) takes the state of the
 * last consistent cut; when sharding moves the shard ({@link #HAND_OFF}) it becomes
 * {@link HandingOver} and stops once the coordinator holds its state. State moves in
 * {@link ShardTransfer}'s chunks. A shard whose node dies loses its state: the coordinator rolls
 * every shard back to the last consistent cut.
 */
public final class ParameterShard implements Steps.Host {

    /** The sharding entity type; entity ids are the shard numbers {@code 0..K-1}. */
    public static final EntityTypeKey<ShardCommand> KEY = EntityTypeKey.create(ShardCommand.class, "ps-shard");

    /** Sender ids of shards in parameter frames: this plus the shard number. */
    public static final int SENDER_BASE = io.tributary.dataplane.FrameGrants.SHARD_SENDER_BASE;

    /** Sharding's stop message when it moves the shard (rebalancing): hand the state over, then stop. */
    public record HandOff() implements ShardCommand {
    }

    /** The one {@link HandOff} instance (the entity's stop message). */
    public static final HandOff HAND_OFF = new HandOff();

    /**
     * How a shard in a cluster reaches the coordinator (a singleton proxy) and sends a message to its
     * own sharding entity (to its next incarnation while it hands off).
     */
    public record Links(ActorRef<CoordinatorCommand> coordinator, Consumer<ShardCommand> toEntity) {
    }

    private static final java.time.Duration ANNOUNCE_EVERY = java.time.Duration.ofSeconds(2);

    /**
     * How many of its last announced commits a shard keeps, to send again to a coordinator that took the
     * run over ({@link ResendCommits}): the coordinator stores its state at least every second, far fewer steps.
     */
    public static final int COMMIT_LOG = 512;

    private final ActorContext<ShardCommand> ctx;
    private final TimerScheduler<ShardCommand> timers;
    private final int shard;
    private final ShardSettings settings;
    private final NodeDataPlane dataPlane;
    private final Links links;
    private final ShardMetrics metrics;
    private final String shardLabel;
    /** This instance of the shard (node endpoint and a random tag): the owner named in its commits. */
    private final String incarnation;
    private final Backend backend = CpuBackend.create();
    private final float[] paramArray;
    private final Tensor params;
    private final Optimizer optimizer;
    private final ContributionSlots slots;
    private final StepAggregation aggregation;
    private final StepQuorum step = new StepQuorum();
    /** The data-plane endpoint of each trainer of the current quorum (whose node alone may speak for it). */
    private java.util.Map<Integer, String> quorumEndpoints = java.util.Map.of();
    /** Trainer ids whose refused contributions were logged in this quorum generation. */
    private final java.util.Set<Integer> refusedIds = new java.util.HashSet<>();
    private final ShardTransfer transfer;
    private final Steps steps;
    private final ParameterRequests requests;
    /** The owner's side of this shard's replicas (null: none, a test or replicas = 1 or bounded staleness). */
    private final Replication replication;
    private ActorRef<CoordinatorCommand> coordinator;
    private long version;
    /** The last {@link #COMMIT_LOG} commits announced, by version (the messages already sent: no copy). */
    private final ShardCommitted[] commitLog = new ShardCommitted[COMMIT_LOG];
    private long rollbackId = -1;
    private ActorRef<CoordinatorCommand> restoreReplyTo;
    private String takenOverFrom;
    /** The version this incarnation took over at (-1: it did not take over). */
    private long takenOverAt = -1;

    public static Behavior<ShardCommand> create(int shard, ShardSettings settings, NodeDataPlane dataPlane,
                                                Supplier<float[]> initialParameters, ShardMetrics metrics) {
        return create(shard, settings, dataPlane, initialParameters, 0, metrics);
    }

    /**
     * As above, starting at {@code initialVersion} (a run resumed from the checkpoint of that step:
     * the next sync step to close is that one).
     */
    public static Behavior<ShardCommand> create(int shard, ShardSettings settings, NodeDataPlane dataPlane,
                                                Supplier<float[]> initialParameters, long initialVersion,
                                                ShardMetrics metrics) {
        return create(shard, settings, dataPlane, initialParameters, initialVersion, metrics, null);
    }

    /**
     * As above; with {@code links} (a cluster) the shard waits for the coordinator's word before it
     * takes part and hands its state over when sharding moves it. Without (a test), it starts at once.
     */
    public static Behavior<ShardCommand> create(int shard, ShardSettings settings, NodeDataPlane dataPlane,
                                                Supplier<float[]> initialParameters, long initialVersion,
                                                ShardMetrics metrics, Links links) {
        // An unexpected failure is logged and the shard resumes with its parameters and version: stopping
        // would make sharding start it again from the initial parameters and stall the run.
        return Behaviors.supervise(Behaviors.<ShardCommand>withTimers(timers -> Behaviors.setup(
                        ctx -> new ParameterShard(ctx, timers, shard, settings, dataPlane, initialParameters,
                                initialVersion, metrics, links).first())))
                .onFailure(RuntimeException.class, SupervisorStrategy.resume());
    }

    private ParameterShard(ActorContext<ShardCommand> ctx, TimerScheduler<ShardCommand> timers, int shard,
                           ShardSettings settings, NodeDataPlane dataPlane, Supplier<float[]> initialParameters,
                           long initialVersion, ShardMetrics metrics, Links links) {
        this.ctx = ctx;
        this.timers = timers;
        this.shard = shard;
        this.settings = settings;
        this.dataPlane = dataPlane;
        this.links = links;
        this.metrics = metrics;
        this.version = initialVersion;
        this.shardLabel = Integer.toString(shard);
        this.incarnation = dataPlane.endpoint() + "/" + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current()
                .nextLong() >>> 16);
        ShardLayout layout = dataPlane.layout();
        int length = layout.length(shard);
        this.paramArray = new float[length];
        System.arraycopy(initialParameters.get(), layout.offset(shard), paramArray, 0, length);
        this.params = CpuBackend.wrap(paramArray);
        this.optimizer = optimizerFor(settings, layout, shard, backend);
        ActorRef<ShardCommand> self = ctx.getSelf();
        this.slots = new ContributionSlots(length, settings.maxTrainers(),
                (trainer, at) -> self.tell(new ShardSignals.ContributionComplete(trainer, at)));
        this.aggregation = new StepAggregation(shard, settings, slots, ctx.getLog());
        this.transfer = new ShardTransfer(dataPlane.runId(), shard, incarnation, paramArray, optimizer, backend,
                ctx.getLog());
        this.requests = new ParameterRequests(shard, dataPlane, paramArray, metrics, ctx.getLog(),
                this::parametersSent, self::tell, settings.parameterEncoding());
        this.replication = links != null && settings.replicated() ? new Replication(ctx, timers, shard,
                dataPlane.runId(), incarnation, settings, transfer, backend, length, metrics) : null;
        if (replication != null) {
            ctx.getSystem().receptionist().tell(org.apache.pekko.actor.typed.receptionist.Receptionist.subscribe(
                    ShardReplicas.KEY, ctx.messageAdapter(org.apache.pekko.actor.typed.receptionist.Receptionist.Listing.class,
                            l -> new Replication.Stores(l.getServiceInstances(ShardReplicas.KEY)))));
        }
        Steps.Tools tools = new Steps.Tools(shard, dataPlane.endpoint(), settings, slots, step, aggregation, optimizer,
                params, transfer, timers, metrics, ctx.getLog());
        this.steps = settings.policy().synchronous() ? new SyncSteps(this, tools) : new StalenessSteps(this, tools);
        slots.strictOrder(!settings.policy().synchronous());
        dataPlane.hostShard(shard, slots);
        ctx.getLog().info("shard {} of {} up on {} with {} parameters ({} policy, {} trainers, {} aggregation{})", shard,
                layout.shardCount(), dataPlane.endpoint(), length, settings.policy().configName(),
                settings.trust().mode().configName(), steps.aggregationName(), settings.trust().maxGradientNorm() > 0
                        ? ", gradient norm <= " + settings.trust().maxGradientNorm() : "");
    }

    /**
     * The optimizer of shard {@code shard}'s slice, as its owner and every replica of it build it (so that a
     * replica applying the owner's aggregate holds the owner's bits).
     */
    static Optimizer optimizerFor(ShardSettings settings, ShardLayout layout, int shard, Backend backend) {
        int length = layout.length(shard);
        return Optimizer.create(settings.optimizer(), settings.schedule(), backend, length,
                settings.decayRangesWithin(layout.offset(shard), length),
                (float) (settings.schedule().clipNorm() * Math.sqrt((double) length / layout.totalParameters())));
    }

    /** Without a coordinator (a test) the shard serves at once; in a cluster it waits for the coordinator's word. */
    private Behavior<ShardCommand> first() {
        if (links == null) {
            openSlots();
            return serving();
        }
        slots.acceptFrom(Long.MAX_VALUE); // nothing until the coordinator's word
        announce();
        timers.startTimerWithFixedDelay("announce", new ShardSignals.AnnounceTick(), ANNOUNCE_EVERY);
        return awaitingWord();
    }

    // ---- the lifecycle: one behaviour per state -------------------------------------------------------

    /** A new incarnation: it takes no frames and closes no step until the coordinator says how to start. */
    private Behavior<ShardCommand> awaitingWord() {
        return Behaviors.receive(ShardCommand.class)
                .onMessage(SetQuorum.class, q -> then(() -> takeQuorum(q)))
                .onMessage(RequestParams.class, r -> then(() -> requests.queue(r)))
                .onMessage(ShardSignals.PublicationOpened.class, o -> then(() -> requests.opened(o, -1)))
                .onMessage(ShardSignals.ContributionComplete.class, c -> then(() -> slots.release(c.trainer())))
                .onMessage(ShardSignals.AnnounceTick.class, t -> then(this::announce))
                .onMessage(StartShard.class, this::onStartShard)
                .onMessage(StateChunk.class, c -> c.kind() == StateKind.HAND_OVER ? onIncomingState(c) : Behaviors.same())
                .onMessage(RollbackShard.class, this::onRollback)
                .onMessage(Replication.Stores.class, r -> then(() -> replication.stores(r.stores())))
                .onMessage(HandOff.class, h -> stopWithoutState("not started"))
                .onSignal(PostStop.class, s -> stopped())
                .build();
    }

    /** Frames are accepted, steps close by the policy ({@link #steps}), parameters go out on request. */
    private Behavior<ShardCommand> serving() {
        return Behaviors.receive(ShardCommand.class)
                .onMessage(SetQuorum.class, q -> then(() -> {
                    if (takeQuorum(q)) {
                        steps.quorumChanged();
                    }
                }))
                .onMessage(RequestParams.class, r -> then(() -> onRequestParams(r)))
                .onMessage(ShardSignals.PublicationOpened.class, o -> then(() -> requests.opened(o, announcedVersion())))
                .onMessage(ShardSignals.ContributionComplete.class, c -> then(() -> onContribution(c)))
                .onMessage(EmptyContribution.class, e -> then(() -> {
                    if (!e.signer().isEmpty() && !e.signer().equals(quorumEndpoints.get(e.trainerId()))) {
                        // signed by a trainer node that is not the one the quorum gave this id: it speaks for another
                        metrics.contributionsRefused.labelValues("not_its_id").inc();
                        ctx.getLog().error("shard {}: refused an empty contribution for step {} in the name of trainer"
                                + " {} ({}) signed by the trainer node at {}", shard, e.step(), e.trainerId(),
                                quorumEndpoints.get(e.trainerId()), e.signer());
                    } else if (e.trainerId() >= 0 && step.inQuorum(e.trainerId())) {
                        steps.empty(e);
                    } else {
                        refused(e.trainerId(), "an empty contribution");
                    }
                }))
                .onMessage(ShardSignals.DeadlineReached.class, d -> then(() -> steps.deadline(d)))
                .onMessage(ShardSignals.ResendCheck.class, c -> then(() -> steps.resendCheck(c)))
                .onMessage(StateChunk.class, s -> then(() -> handOverDoneAgain(s)))
                .onMessage(RollbackShard.class, this::onRollback)
                .onMessage(Replication.Stores.class, r -> then(() -> replication.stores(r.stores())))
                .onMessage(ReplicaAck.class, a -> then(() -> replication.ack(a)))
                .onMessage(Replication.Timeout.class, t -> then(() -> replication.timeout(t)))
                .onMessage(HandOff.class, h -> onHandOff())
                .onMessage(ResendCommits.class, r -> then(() -> resendCommits(r)))
                .onSignal(PostStop.class, s -> stopped())
                .build();
    }

    /** A rollback's state arrives; requests wait, frames are refused, no step closes. */
    private Behavior<ShardCommand> restoring() {
        return Behaviors.receive(ShardCommand.class)
                .onMessage(SetQuorum.class, q -> then(() -> takeQuorum(q)))
                .onMessage(RequestParams.class, r -> then(() -> requests.queue(r)))
                .onMessage(ShardSignals.PublicationOpened.class, o -> then(() -> requests.opened(o, -1)))
                .onMessage(ShardSignals.ContributionComplete.class, c -> then(() -> slots.release(c.trainer())))
                .onMessage(RollbackShard.class, this::onRollback)
                .onMessage(StateChunk.class, c -> c.kind() == StateKind.ROLLBACK ? restore(c) : then(() -> handOverDoneAgain(c)))
                .onMessage(Replication.Stores.class, r -> then(() -> replication.stores(r.stores())))
                .onMessage(HandOff.class, h -> stopWithoutState("restoring"))
                .onSignal(PostStop.class, s -> stopped())
                .build();
    }

    private Behavior<ShardCommand> then(Runnable handler) {
        handler.run();
        return Behaviors.same();
    }

    private Behavior<ShardCommand> stopped() {
        release();
        return Behaviors.same();
    }

    private void release() {
        dataPlane.unhostShard(shard, slots);
        backend.close();
    }

    // ---- messages every live state handles alike ---------------------------------------------------------

    /**
     * One vote per member: only a trainer of the current quorum may contribute. A slot of any other id
     * is freed unread, counted and logged once per id (the coordinator gave that id to nobody, or took
     * it back: with authentication on, the node's data plane refuses such frames before they reach a
     * slot, so this catches runs without it and quorum changes in flight).
     */
    private void onContribution(ShardSignals.ContributionComplete c) {
        if (step.inQuorum(c.trainer())) {
            steps.contribution(c);
            return;
        }
        slots.release(c.trainer());
        refused(c.trainer(), "a gradient for step " + c.step());
    }

    private void refused(int trainer, String what) {
        metrics.contributionsRefused.labelValues("not_in_quorum").inc();
        if (refusedIds.add(trainer)) {
            ctx.getLog().warn("shard {}: refused {} of trainer id {}, which is not in quorum generation {} ({}); "
                    + "further refusals of that id are only counted (tributary_shard_contributions_refused_total)",
                    shard, what, trainer, step.generation(), step.quorum());
        }
    }

    /** Takes a newer quorum; requests of trainers that left it are dropped. Returns false for an old one. */
    private boolean takeQuorum(SetQuorum q) {
        Set<Integer> before = step.quorum();
        if (q.runId() != dataPlane.runId() || !step.update(q.generation(), q.trainers(), q.backup())) {
            return false;
        }
        dataPlane.grantTrainers(q.generation(), q.endpoints());
        quorumEndpoints = q.endpoints();
        refusedIds.clear();
        for (int t = 0; t < settings.maxTrainers(); t++) {
            if (!step.inQuorum(t)) {
                aggregation.forget(t); // its slot may go to another trainer
                if (before.contains(t)) {
                    // it has just left: a partial gradient of it must not be completed by the next holder of
                    // the id (a trainer not yet in a quorum keeps what it sent: it may be a joiner ahead of its quorum)
                    slots.forget(t);
                }
            }
        }
        coordinator = q.coordinator();
        ctx.getLog().info("shard {}: quorum generation {} = trainers {} (backup {})", shard, step.generation(),
                step.quorum(), step.backup());
        // Requests of trainers that left the quorum (dead or replaced) are dropped: answering them would
        // send to a node that is gone. The coordinator's own requests (id < 0) stay.
        int dropped = requests.dropTrainersBut(step::inQuorum);
        if (dropped > 0) {
            ctx.getLog().info("shard {}: dropped {} parameter request(s) of trainers no longer in the quorum",
                    shard, dropped);
        }
        return true;
    }

    /** The version trainers and the coordinator may see: one below {@link #version} while replicas are to hold it. */
    private long announcedVersion() {
        return replication != null && replication.holding() ? version - 1 : version;
    }

    private void onRequestParams(RequestParams r) {
        if (r.minVersion() <= announcedVersion()) {
            requests.send(r, version);
            return;
        }
        requests.queue(r);
        steps.requestQueued(r);
    }

    private void openSlots() {
        slots.resetAll();
        slots.acceptFrom(steps.acceptFrom());
    }

    /** The coordinator's word came (a fresh start, a hand-over or a restore): frames of {@code at} on are taken. */
    private Behavior<ShardCommand> serveFrom(long at) {
        version = at;
        timers.cancel("announce");
        openSlots();
        metrics.shardVersion.labelValues(shardLabel).set(version);
        requests.serve(version);
        return serving();
    }

    private void announce() {
        links.coordinator().tell(new ShardStarted(dataPlane.runId(), shard, incarnation, ctx.getSelf()));
    }

    private Behavior<ShardCommand> onStartShard(StartShard s) {
        if (s.runId() != dataPlane.runId() || s.shard() != shard) {
            return Behaviors.same();
        }
        ctx.getLog().info("shard {}: starts at version {} (the coordinator's word)", shard, version);
        return serveFrom(version);
    }

    // ---- hand-over: out to the next owner, in from the previous one -------------------------------------

    /**
     * Sharding moves this shard to another ps node: stop taking frames, send the parameters, the
     * version and the optimizer state to the coordinator (again every 2 s until it acknowledges),
     * pass on every request and quorum change for the next owner, and stop when acknowledged. The
     * step in hand is dropped: its gradients are asked for again by the next owner.
     */
    private Behavior<ShardCommand> onHandOff() {
        if (links == null) {
            return stopWithoutState("no coordinator");
        }
        if (replication != null) {
            replication.flush(); // the coordinator hears of the last step before it takes the state
        }
        slots.acceptFrom(Long.MAX_VALUE);
        slots.resetAll();
        step.clear();
        timers.cancel("deadline");
        timers.cancel("resend");
        int passedOn = requests.passOn(links.toEntity());
        ctx.getLog().warn("shard {}: moving to another ps node: handing over version {} with {} optimizer "
                + "steps; {} parameter request(s) passed on to the next owner", shard, version, optimizer.steps(), passedOn);
        return new HandingOver(ctx, timers, shard, version, incarnation, transfer.statePieces(version, ctx.getSelf()),
                links, slots, this::release);
    }

    private Behavior<ShardCommand> stopWithoutState(String why) {
        ctx.getLog().info("shard {}: handed off before it held state of its own ({}): nothing to hand over", shard, why);
        if (links != null) {
            requests.passOn(links.toEntity());
        }
        return Behaviors.stopped();
    }

    /** A piece of handed-over state after this incarnation took part: the coordinator missed our answer. */
    private void handOverDoneAgain(StateChunk s) {
        if (s.kind() == StateKind.HAND_OVER && s.runId() == dataPlane.runId() && s.shard() == shard && s.owner().equals(takenOverFrom) && links != null) {
            links.coordinator().tell(new HandOverDone(shard, version, incarnation, takenOverFrom)); // sent again
        }
    }

    /** A piece of the state the previous owner handed over, from the coordinator; once whole, the shard serves from it. */
    private Behavior<ShardCommand> onIncomingState(StateChunk s) {
        if (s.runId() != dataPlane.runId() || s.shard() != shard) {
            return Behaviors.same();
        }
        if (s.parts() != transfer.parts()) {
            ctx.getLog().error("shard {}: the state handed over by {} has {} parts but this shard keeps {} (its"
                    + " optimizer differs): set the same tributary.optimizer on every ps node; ignored", shard, s.owner(),
                    s.parts(), transfer.parts());
            return Behaviors.same();
        }
        if (transfer.offer(s) == ChunkedState.Accepted.MISFIT) {
            ctx.getLog().error("shard {}: a piece of state from {} (part {}, [{}, +{})) does not fit its {} "
                    + "parameters; ignored", shard, s.owner(), s.part(), s.offset(), s.values().length, paramArray.length);
            return Behaviors.same();
        }
        if (!transfer.incomingComplete()) {
            return Behaviors.same();
        }
        ShardTransfer.Incoming in = transfer.installIncoming();
        takenOverAt = in.version();
        takenOverFrom = in.owner();
        metrics.shardHandOvers.inc();
        ctx.getLog().warn("shard {}: took over at version {} from {} with its optimizer state ({} steps)",
                shard, in.version(), takenOverFrom, optimizer.steps());
        Behavior<ShardCommand> next = serveFrom(in.version());
        links.coordinator().tell(new HandOverDone(shard, version, incarnation, takenOverFrom));
        // gradients of this step went to the previous owner's node: ask for them now
        steps.resendCheck(new ShardSignals.ResendCheck(version));
        return next;
    }

    // ---- rollback ---------------------------------------------------------------------------------------

    /**
     * A ps node died and the coordinator rolls every shard back to its last checkpoint (this one may
     * be the dead node's shard, started afresh on a surviving node). Until the restore is complete
     * no frame is accepted, no step closes and parameter requests wait.
     */
    private Behavior<ShardCommand> onRollback(RollbackShard r) {
        if (r.runId() != dataPlane.runId() || r.rollbackId() < rollbackId) {
            return Behaviors.same();
        }
        if (r.rollbackId() == rollbackId) {
            // The coordinator sends a rollback again until it hears back (sharding may lose messages to
            // a shard while it moves): answer again when done, else keep the chunks already here.
            if (!transfer.restoring()) {
                r.coordinator().tell(new ShardRestored(shard, rollbackId, version, incarnation));
            }
            return Behaviors.same();
        }
        if (r.length() != paramArray.length) {
            ctx.getLog().error("shard {}: rollback {} carries {} parameters but this shard has {}; ignored",
                    shard, r.rollbackId(), r.length(), paramArray.length);
            return Behaviors.same();
        }
        ctx.getLog().warn("shard {}: rolling back from version {} to the checkpoint of version {} (rollback {})",
                shard, version, r.version(), r.rollbackId());
        rollbackId = r.rollbackId();
        if (replication != null) {
            replication.drop();
        }
        restoreReplyTo = r.coordinator();
        coordinator = r.coordinator();
        if (!transfer.beginRestore(r)) {
            ctx.getLog().error("shard {}: rollback {} carries {} optimizer state vectors but this shard's "
                    + "optimizer keeps {} (set the same tributary.optimizer on every ps node); its optimizer starts "
                    + "from zero", shard, r.rollbackId(), r.optimizerParts(), optimizer.state().length);
        }
        slots.acceptFrom(Long.MAX_VALUE);
        slots.resetAll();
        step.clear();
        requests.clear();
        timers.cancel("deadline");
        return restoring();
    }

    private Behavior<ShardCommand> restore(StateChunk c) {
        if (!transfer.restore(c) || !transfer.restoreComplete()) {
            return Behaviors.same();
        }
        boolean withOptimizer = transfer.installRestore();
        Behavior<ShardCommand> next = serveFrom(transfer.restoreVersion());
        ctx.getLog().warn("shard {}: restored at version {} (rollback {}); {}", shard, version, rollbackId,
                withOptimizer ? "optimizer state of that version restored (" + optimizer.steps() + " steps)"
                        : "optimizer state starts again from zero");
        restoreReplyTo.tell(new ShardRestored(shard, rollbackId, version, incarnation));
        return next;
    }

    private void parametersSent(RequestParams r) {
        steps.parametersSent(r);
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public long takenOverAt() {
        return takenOverAt;
    }

    @Override
    public List<RequestParams> waiting() {
        return requests.waiting();
    }

    @Override
    public ActorRef<CoordinatorCommand> coordinator() {
        return coordinator;
    }

    @Override
    public void applying(Tensor aggregate) {
        if (replication != null) {
            replication.captured(aggregate);
        }
    }

    /**
     * The step is applied: the version moves on. With replicas, the coordinator and the trainers hear of
     * it only once every replica holds it (or replica-timeout passed), so that a promoted replica is never
     * behind what anyone saw.
     */
    @Override
    public void committed(long closed, int contributors, boolean byDeadline, Set<Integer> rejected,
                           Set<Integer> outliers, Map<Integer, Long> checksums) {
        version++;
        metrics.shardCommits.labelValues(shardLabel).inc();
        metrics.shardVersion.labelValues(shardLabel).set(version);
        ShardCommitted commit = new ShardCommitted(shard, closed, contributors, step.quorum().size(), byDeadline,
                rejected, outliers, checksums, version, incarnation);
        if (replication != null && replication.replicate(closed, version, commit, () -> publish(commit))) {
            return;
        }
        publish(commit);
    }

    private void publish(ShardCommitted commit) {
        commitLog[(int) (commit.version() % COMMIT_LOG)] = commit;
        if (coordinator != null) {
            coordinator.tell(commit);
        }
        requests.serve(version);
    }

    /**
     * A coordinator that took the run over asks for the commits from {@code fromVersion} on: each one this
     * incarnation announced and still holds goes to it again (it takes each version once).
     */
    private void resendCommits(ResendCommits r) {
        if (r.runId() != dataPlane.runId()) {
            ctx.getLog().error("shard {}: a coordinator of run {} asked for its commits; this is run {}: ignored", shard,
                    r.runId(), dataPlane.runId());
            return;
        }
        long from = Math.max(r.fromVersion(), version - COMMIT_LOG + 1);
        if (from > r.fromVersion()) {
            ctx.getLog().warn("shard {}: the coordinator asks for the commits from version {}, but only those from {} are"
                    + " kept: versions {}..{} are not sent again", shard, r.fromVersion(), from, r.fromVersion(), from - 1);
        }
        int sent = 0;
        for (long v = from; v <= version; v++) {
            ShardCommitted c = commitLog[(int) (v % COMMIT_LOG)];
            if (c != null && c.version() == v) {
                r.coordinator().tell(c);
                sent++;
            }
        }
        ctx.getLog().info("shard {}: sent {} commit(s) from version {} to the coordinator that took the run over", shard,
                sent, r.fromVersion());
        r.coordinator().tell(new io.tributary.protocol.CoordinatorProtocol.CommitsResent(shard, version, incarnation));
    }
}
