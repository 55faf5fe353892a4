package io.tributary.ps.shard;

import io.tributary.protocol.ConsistencyPolicy;
import io.tributary.protocol.ShardLayout;
import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.aggregate.AggregationRule;
import io.tributary.ps.aggregate.AggregationSettings;
import io.tributary.ps.aggregate.BiasScreen;
import io.tributary.ps.aggregate.OutlierScreen;
import io.tributary.ps.aggregate.ContributionCheck;
import io.tributary.ps.node.ContributionSlots;
import io.tributary.ps.node.FloatChecksum;
import io.tributary.ps.node.NodeDataPlane;
import io.tributary.ps.optim.Optimizer;
import io.tributary.protocol.TrainingProtocol.CoordinatorCommand;
import io.tributary.protocol.TrainingProtocol.EmptyContribution;
import io.tributary.protocol.TrainingProtocol.HandOverAck;
import io.tributary.protocol.TrainingProtocol.HandOverDone;
import io.tributary.protocol.TrainingProtocol.OptimizerSnapshot;
import io.tributary.protocol.TrainingProtocol.ResendGradient;
import io.tributary.protocol.TrainingProtocol.ShardStarted;
import io.tributary.protocol.TrainingProtocol.ShardState;
import io.tributary.protocol.TrainingProtocol.StartShard;
import io.tributary.protocol.TrainingProtocol.ParamsSent;
import io.tributary.protocol.TrainingProtocol.RequestParams;
import io.tributary.protocol.TrainingProtocol.RestoreChunk;
import io.tributary.protocol.TrainingProtocol.RollbackShard;
import io.tributary.protocol.TrainingProtocol.ShardRestored;
import io.tributary.protocol.TrainingProtocol.SetQuorum;
import io.tributary.protocol.TrainingProtocol.ShardCommand;
import io.tributary.protocol.TrainingProtocol.ShardCommitted;
import io.tributary.ps.wire.FrameType;
import io.tributary.ps.wire.OfferFailedException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One parameter shard, a Cluster Sharding entity on a {@code ps} node: it holds its slice of the
 * parameters and the optimizer state, collects the trainers' gradients for a step (through the
 * node's data plane, into per-trainer slots), closes the step according to the consistency policy,
 * applies the optimizer and advances its version. Parameters go out over the data plane on request.
 *
 * <p>Every contribution first passes a {@link ContributionCheck} (finite, within
 * {@code tributary.trust.max-gradient-norm}); rejected ones are left out and counted in
 * {@link ShardCommitted#rejected()}. In sync, the accepted ones are combined by the configured
 * {@link AggregationRule} (mean when trusted); bounded staleness applies each accepted contribution
 * on its own, so the robust rules, which need several contributions of one step, apply to sync only.
 *
 * <p>State lives in memory. A new incarnation waits for the coordinator's word before it takes part
 * ({@link ShardStarted}): it starts from its initial state, takes the state its previous owner handed
 * over, or is rolled back. When sharding moves the shard to another ps node (rebalancing), the
 * {@link #HAND_OFF} stop message makes it send its parameters, version and optimizer state to the
 * coordinator ({@link ShardState}) and stop once the coordinator holds them; the next incarnation
 * starts from them. Gradients sent to the old node meanwhile are asked for again
 * ({@link ResendGradient}). A shard whose node dies loses its state: the coordinator rolls every
 * shard back to the last consistent cut.
 */
public final class ParameterShard extends AbstractBehavior<ShardCommand> {

    /** The sharding entity type; entity ids are the shard numbers {@code 0..K-1}. */
    public static final EntityTypeKey<ShardCommand> KEY = EntityTypeKey.create(ShardCommand.class, "ps-shard");

    /** Floats per {@link RestoreChunk} (the last one of a shard may be shorter). */
    public static final int RESTORE_CHUNK = io.tributary.protocol.ChunkedState.CHUNK_FLOATS;

    /** Sender ids of shards in parameter frames: this plus the shard number. */
    public static final int SENDER_BASE = 1_000_000;

    /** Rejections are logged at most once per this many steps (versions), with the count since the last line. */
    private static final long REJECTION_LOG_INTERVAL = 100;

    /** A trainer's gradient for {@code step} is complete in its slot (from the receiver thread). */
    record ContributionComplete(int trainer, long step) implements ShardCommand {
    }

    /** The sync deadline of {@code step} passed. */
    record DeadlineReached(long step) implements ShardCommand {
    }

    /** Gradients of {@code step} that trainers waiting for the next version have not sent: ask again. */
    record ResendCheck(long step) implements ShardCommand {
    }

    /** Tell the coordinator again that this incarnation waits for its word. */
    record AnnounceTick() implements ShardCommand {
    }

    /** Send the handed-over state again (no acknowledgement yet). */
    record HandOverTick() implements ShardCommand {
    }

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
    private static final long HAND_OVER_GIVE_UP_NANOS = 30_000_000_000L;

    private final int shard;
    private final ShardSettings settings;
    private final NodeDataPlane dataPlane;
    private final Backend backend = CpuBackend.create();
    private final Tensor params;
    private final float[] paramArray;
    private final float[] gradArray;
    private final Tensor gradSum;
    private final Tensor[] slotTensors;
    private final float[][] slotArrays;
    private final int[] accepted;
    private final OutlierScreen outliers;
    private final boolean[] outlier;
    private final BiasScreen bias;
    private final int[] suspects;
    private final ContributionCheck check;
    private final AggregationRule rule;
    private long rejectedSinceLog;
    private long lastRejectionLog = Long.MIN_VALUE;
    private final ContributionSlots slots;
    private final Optimizer optimizer;
    private final TimerScheduler<ShardCommand> timers;
    private final List<RequestParams> waiting = new ArrayList<>();
    private final Set<Integer> contributors = new HashSet<>();
    private final List<Integer> readySlots = new ArrayList<>();
    private final FloatChecksum checksum = new FloatChecksum();
    private Set<Integer> quorum = Set.of();
    private long generation = -1;
    private int backup;
    private ActorRef<CoordinatorCommand> coordinator;
    private long version;
    private final ShardMetrics metrics;
    private final String shardLabel;
    /** This instance of the shard (node endpoint and a random tag): the owner named in its commits. */
    private final String incarnation;
    private long rollbackId = -1;
    private boolean restoring;
    private long restoreVersion;
    private int restoreReceived;
    private boolean[] restoreChunks = new boolean[0];
    private ActorRef<CoordinatorCommand> restoreReplyTo;
    /** Optimizer state of the rollback's version, while it arrives (null: the optimizer starts from zero). */
    private float[][] restoreOptimizer;
    private boolean[][] restoreOptimizerGot;
    private int restoreOptimizerMissing;
    private long restoreOptimizerSteps;
    private final Links links;
    /** The coordinator's word came (or there is no coordinator to ask): the shard takes part. */
    private boolean started;
    private boolean handingOver;
    private long handOverStartNanos;
    /** State handed over by the previous owner, while it arrives. */
    private String incomingOwner;
    private long incomingVersion;
    private long incomingSteps;
    private float[][] incoming;
    private boolean[][] incomingGot;
    private int incomingMissing;
    private String takenOverFrom;
    /** The version this incarnation took over at (-1: it did not take over). */
    private long takenOverAt = -1;
    private final float[] stateScratch;

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
                                initialVersion, metrics, links))))
                .onFailure(RuntimeException.class, SupervisorStrategy.resume());
    }

    private ParameterShard(ActorContext<ShardCommand> ctx, TimerScheduler<ShardCommand> timers, int shard,
                           ShardSettings settings, NodeDataPlane dataPlane, Supplier<float[]> initialParameters,
                           long initialVersion, ShardMetrics metrics, Links links) {
        super(ctx);
        this.links = links;
        this.version = initialVersion;
        this.metrics = metrics;
        this.shardLabel = Integer.toString(shard);
        this.incarnation = dataPlane.endpoint() + "/" + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current()
                .nextLong() >>> 16);
        this.timers = timers;
        this.shard = shard;
        this.settings = settings;
        this.dataPlane = dataPlane;
        ShardLayout layout = dataPlane.layout();
        int length = layout.length(shard);
        this.paramArray = new float[length];
        System.arraycopy(initialParameters.get(), layout.offset(shard), paramArray, 0, length);
        this.params = CpuBackend.wrap(paramArray);
        this.gradArray = new float[length];
        this.gradSum = CpuBackend.wrap(gradArray);
        this.optimizer = Optimizer.create(settings.optimizer(), backend, length);
        this.stateScratch = new float[length];
        ActorRef<ShardCommand> self = ctx.getSelf();
        this.slots = new ContributionSlots(length, settings.maxTrainers(),
                (trainer, step) -> self.tell(new ContributionComplete(trainer, step)));
        this.slotTensors = new Tensor[settings.maxTrainers()];
        this.slotArrays = new float[settings.maxTrainers()][];
        for (int t = 0; t < slotTensors.length; t++) {
            slotArrays[t] = slots.slot(t);
            slotTensors[t] = CpuBackend.wrap(slotArrays[t]);
        }
        this.accepted = new int[settings.maxTrainers()];
        this.check = new ContributionCheck(settings.trust().maxGradientNorm());
        this.rule = AggregationRule.create(settings.trust(), settings.maxTrainers(), length);
        this.outliers = new OutlierScreen(settings.trust().rule() == AggregationSettings.Rule.MEAN ? 0f
                : settings.trust().outlierFactor(), settings.maxTrainers());
        this.outlier = new boolean[settings.maxTrainers()];
        this.bias = new BiasScreen(settings.trust().rule() == AggregationSettings.Rule.MEAN ? 0f
                : settings.trust().biasThreshold(), settings.trust().biasWarmup(), settings.maxTrainers(), length);
        this.suspects = new int[settings.maxTrainers()];
        slots.strictOrder(settings.policy() != ConsistencyPolicy.SYNC);
        if (links == null) {
            started = true;
            openSlots();
        } else {
            slots.acceptFrom(Long.MAX_VALUE); // nothing until the coordinator's word
            announce();
            timers.startTimerWithFixedDelay("announce", new AnnounceTick(), ANNOUNCE_EVERY);
        }
        dataPlane.hostShard(shard, slots);
        ctx.getLog().info("shard {} of {} up on {} with {} parameters ({} policy, {} trainers, {} aggregation{})", shard,
                layout.shardCount(), dataPlane.endpoint(), length, settings.policy().configName(),
                settings.trust().mode().configName(), settings.policy() == ConsistencyPolicy.SYNC
                        ? rule.name() : "per contribution", settings.trust().maxGradientNorm() > 0
                        ? ", gradient norm <= " + settings.trust().maxGradientNorm() : "");
    }

    @Override
    public Receive<ShardCommand> createReceive() {
        return newReceiveBuilder()
                .onMessage(SetQuorum.class, this::onSetQuorum)
                .onMessage(RequestParams.class, this::onRequestParams)
                .onMessage(ContributionComplete.class, this::onContribution)
                .onMessage(EmptyContribution.class, this::onEmptyContribution)
                .onMessage(DeadlineReached.class, this::onDeadline)
                .onMessage(RollbackShard.class, this::onRollback)
                .onMessage(RestoreChunk.class, this::onRestoreChunk)
                .onMessage(OptimizerSnapshot.class, this::onOptimizerSnapshot)
                .onMessage(ResendCheck.class, this::onResendCheck)
                .onMessage(AnnounceTick.class, t -> {
                    if (started) {
                        timers.cancel("announce");
                    } else {
                        announce();
                    }
                    return this;
                })
                .onMessage(StartShard.class, this::onStartShard)
                .onMessage(ShardState.class, this::onShardState)
                .onMessage(HandOff.class, h -> onHandOff())
                .onMessage(HandOverTick.class, t -> onHandOverTick())
                .onMessage(HandOverAck.class, this::onHandOverAck)
                .onSignal(PostStop.class, s -> {
                    dataPlane.unhostShard(shard, slots);
                    backend.close();
                    return this;
                })
                .build();
    }

    private Behavior<ShardCommand> onSetQuorum(SetQuorum q) {
        if (handingOver) {
            links.toEntity().accept(q); // for the next owner
            return this;
        }
        if (q.runId() != dataPlane.runId() || q.generation() <= generation) {
            return this;
        }
        generation = q.generation();
        quorum = q.trainers();
        backup = q.backup();
        for (int t = 0; t < suspects.length; t++) {
            if (!quorum.contains(t)) {
                bias.reset(t); // its slot may go to another trainer
            }
        }
        coordinator = q.coordinator();
        getContext().getLog().info("shard {}: quorum generation {} = trainers {} (backup {})", shard, generation, quorum,
                backup);
        // Requests of trainers that left the quorum (dead or replaced) are dropped: answering them would
        // send to a node that is gone. The coordinator's own requests (id < 0) stay.
        int before = waiting.size();
        waiting.removeIf(r -> r.requesterId() >= 0 && !quorum.contains(r.requesterId()));
        if (waiting.size() < before) {
            getContext().getLog().info("shard {}: dropped {} parameter request(s) of trainers no longer in the quorum",
                    shard, before - waiting.size());
        }
        if (settings.policy() == ConsistencyPolicy.SYNC) {
            maybeCommit(false);
            if (ready() && !waiting.isEmpty() && !timers.isTimerActive("resend")) {
                timers.startSingleTimer("resend", new ResendCheck(version), settings.resendAfter());
            }
        }
        return this;
    }

    private Behavior<ShardCommand> onRequestParams(RequestParams r) {
        if (handingOver) {
            links.toEntity().accept(r); // for the next owner
            return this;
        }
        if (ready() && r.minVersion() <= version) {
            sendParams(r);
            return this;
        }
        // a request asked again (request timeout) replaces the one waiting
        waiting.removeIf(w -> w.requesterId() == r.requesterId() && w.minVersion() == r.minVersion()
                && w.endpoint().equals(r.endpoint()));
        waiting.add(r);
        if (ready() && settings.policy() == ConsistencyPolicy.SYNC && r.requesterId() >= 0
                && r.minVersion() == version + 1 && !contributors.contains(r.requesterId())) {
            if (version == takenOverAt && quorum.contains(r.requesterId())) {
                // this step's gradients went to the node the shard left: nothing is on its way here
                r.replyTo().tell(new ResendGradient(shard, version, dataPlane.endpoint()));
                metrics.gradientResends.inc();
            } else if (!timers.isTimerActive("resend")) {
                // usually the gradient is on its way (the request overtook it); if not, ask for it again
                timers.startSingleTimer("resend", new ResendCheck(version), settings.resendAfter());
            }
        }
        return this;
    }

    /** Started, not restoring and not handing over: frames are accepted and steps close. */
    private boolean ready() {
        return started && !restoring && !handingOver;
    }

    private void openSlots() {
        slots.resetAll();
        slots.acceptFrom(settings.policy() == ConsistencyPolicy.SYNC ? version : Long.MIN_VALUE);
    }

    /** The coordinator's word came (a fresh start, a hand-over or a restore): frames of {@code at} on are taken. */
    private void takePartAt(long at) {
        version = at;
        started = true;
        timers.cancel("announce");
        openSlots();
        metrics.shardVersion.labelValues(shardLabel).set(version);
    }

    private void announce() {
        links.coordinator().tell(new ShardStarted(dataPlane.runId(), shard, incarnation, getContext().getSelf()));
    }

    /**
     * Trainers that wait for the version after {@code step} but whose gradient of it never came are
     * asked to send it again: it went to the node this shard left, or was lost on the way.
     */
    private Behavior<ShardCommand> onResendCheck(ResendCheck c) {
        if (!ready() || c.step() != version || settings.policy() != ConsistencyPolicy.SYNC) {
            return this;
        }
        List<Integer> asked = new ArrayList<>(2);
        for (RequestParams r : waiting) {
            int t = r.requesterId();
            if (t >= 0 && r.minVersion() == version + 1 && quorum.contains(t) && !contributors.contains(t)
                    && !asked.contains(t)) {
                r.replyTo().tell(new ResendGradient(shard, version, dataPlane.endpoint()));
                asked.add(t);
            }
        }
        if (!asked.isEmpty()) {
            metrics.gradientResends.inc(asked.size());
            getContext().getLog().info("shard {}: asked trainer(s) {} to send their gradient of step {} again, to {} ({})",
                    shard, asked, version, dataPlane.endpoint(), version == takenOverAt
                            ? "it went to the node this shard moved from"
                            : "not here " + settings.resendAfter().toMillis() + " ms after they asked for the next parameters");
            timers.startSingleTimer("resend", new ResendCheck(version), settings.resendAfter());
        }
        return this;
    }

    private Behavior<ShardCommand> onStartShard(StartShard s) {
        if (started || s.runId() != dataPlane.runId() || s.shard() != shard) {
            return this;
        }
        takePartAt(version);
        getContext().getLog().info("shard {}: starts at version {} (the coordinator's word)", shard, version);
        serveWaiting();
        return this;
    }

    /**
     * Sharding moves this shard to another ps node: stop taking frames, send the parameters, the
     * version and the optimizer state to the coordinator (again every 2 s until it acknowledges),
     * pass on every request and quorum change for the next owner, and stop when acknowledged. The
     * step in hand is dropped: its gradients are asked for again by the next owner.
     */
    private Behavior<ShardCommand> onHandOff() {
        if (handingOver) {
            return this;
        }
        if (links == null || !started || restoring) {
            getContext().getLog().info("shard {}: handed off before it held state of its own ({}): nothing to hand over",
                    shard, links == null ? "no coordinator" : !started ? "not started" : "restoring");
            waiting.forEach(r -> {
                if (links != null) {
                    links.toEntity().accept(r);
                }
            });
            return Behaviors.stopped();
        }
        handingOver = true;
        handOverStartNanos = System.nanoTime();
        slots.acceptFrom(Long.MAX_VALUE);
        slots.resetAll();
        contributors.clear();
        readySlots.clear();
        timers.cancel("deadline");
        timers.cancel("resend");
        waiting.forEach(r -> links.toEntity().accept(r));
        int passedOn = waiting.size();
        waiting.clear();
        getContext().getLog().warn("shard {}: moving to another ps node: handing over version {} with {} optimizer "
                + "steps; {} parameter request(s) passed on to the next owner", shard, version, optimizer.steps(), passedOn);
        sendState();
        timers.startTimerWithFixedDelay("hand-over", new HandOverTick(), ANNOUNCE_EVERY);
        return this;
    }

    private Behavior<ShardCommand> onHandOverTick() {
        if (System.nanoTime() - handOverStartNanos > HAND_OVER_GIVE_UP_NANOS) {
            getContext().getLog().error("shard {}: the coordinator did not acknowledge the state of version {} within "
                    + "30 s; stopping without it: the next owner waits for the coordinator (a rollback)", shard, version);
            return Behaviors.stopped();
        }
        sendState();
        return this;
    }

    private Behavior<ShardCommand> onHandOverAck(HandOverAck a) {
        if (!handingOver || !a.owner().equals(incarnation)) {
            return this;
        }
        getContext().getLog().info("shard {}: the coordinator holds its state of version {}; stopping here", shard,
                version);
        return Behaviors.stopped();
    }

    /** Parameters (part 0) and every optimizer state vector, in chunks, to the coordinator. */
    private void sendState() {
        Tensor[] state = optimizer.state();
        int parts = 1 + state.length;
        for (int part = 0; part < parts; part++) {
            float[] source = paramArray;
            if (part > 0) {
                backend.download(state[part - 1], stateScratch, 0);
                source = stateScratch;
            }
            for (int off = 0; off < source.length; off += RESTORE_CHUNK) {
                float[] values = java.util.Arrays.copyOfRange(source, off, Math.min(source.length, off + RESTORE_CHUNK));
                links.coordinator().tell(new ShardState(dataPlane.runId(), shard, incarnation, version, optimizer.steps(),
                        parts, part, off, values, getContext().getSelf()));
            }
        }
    }

    /** A piece of the state the previous owner handed over, from the coordinator. */
    private Behavior<ShardCommand> onShardState(ShardState s) {
        if (s.runId() != dataPlane.runId() || s.shard() != shard) {
            return this;
        }
        if (started) {
            if (s.owner().equals(takenOverFrom) && links != null) {
                links.coordinator().tell(new HandOverDone(shard, version, incarnation, takenOverFrom)); // sent again
            }
            return this;
        }
        int parts = 1 + optimizer.state().length;
        if (s.parts() != parts) {
            getContext().getLog().error("shard {}: the state handed over by {} has {} parts but this shard keeps {} (its"
                    + " optimizer differs): set the same tributary.optimizer on every ps node; ignored", shard, s.owner(),
                    s.parts(), parts);
            return this;
        }
        int chunks = (paramArray.length + RESTORE_CHUNK - 1) / RESTORE_CHUNK;
        if (s.part() < 0 || s.part() >= parts || s.offset() < 0 || s.offset() % RESTORE_CHUNK != 0
                || s.offset() > paramArray.length - s.values().length
                || s.values().length != Math.min(RESTORE_CHUNK, paramArray.length - s.offset())) {
            getContext().getLog().error("shard {}: a piece of state from {} (part {}, [{}, +{})) does not fit its {} "
                    + "parameters; ignored", shard, s.owner(), s.part(), s.offset(), s.values().length, paramArray.length);
            return this;
        }
        if (incoming == null || !s.owner().equals(incomingOwner) || s.version() != incomingVersion) {
            incomingOwner = s.owner();
            incomingVersion = s.version();
            incomingSteps = s.optimizerSteps();
            incoming = new float[parts][paramArray.length];
            incomingGot = new boolean[parts][chunks];
            incomingMissing = parts * chunks;
        }
        int chunk = s.offset() / RESTORE_CHUNK;
        if (incomingGot[s.part()][chunk]) {
            return this;
        }
        incomingGot[s.part()][chunk] = true;
        System.arraycopy(s.values(), 0, incoming[s.part()], s.offset(), s.values().length);
        if (--incomingMissing > 0) {
            return this;
        }
        System.arraycopy(incoming[0], 0, paramArray, 0, paramArray.length);
        Tensor[] state = optimizer.state();
        for (int i = 0; i < state.length; i++) {
            backend.upload(incoming[i + 1], 0, state[i]);
        }
        optimizer.restoreSteps(incomingSteps);
        takenOverAt = incomingVersion;
        takenOverFrom = incomingOwner;
        incoming = null;
        incomingGot = null;
        takePartAt(incomingVersion);
        metrics.shardHandOvers.inc();
        getContext().getLog().warn("shard {}: took over at version {} from {} with its optimizer state ({} steps)",
                shard, version, takenOverFrom, optimizer.steps());
        links.coordinator().tell(new HandOverDone(shard, version, incarnation, takenOverFrom));
        serveWaiting();
        // gradients of this step went to the previous owner's node: ask for them now
        onResendCheck(new ResendCheck(version));
        return this;
    }

    /**
     * Sends this shard's parameters to a requester. A requester that cannot be reached (its node died
     * or is paused) is skipped with a warning: it asks again after its request timeout if it is alive,
     * and the shard, its state and every other trainer go on. A failed send never fails the shard.
     */
    private void sendParams(RequestParams r) {
        int replica = r.requesterId() < 0 ? NodeDataPlane.COORDINATOR_REPLICA : NodeDataPlane.TRAINER_REPLICA;
        try {
            dataPlane.sendIfConnected(r.endpoint(), FrameType.PARAMETERS, SENDER_BASE + shard, shard, replica, version,
                    paramArray, 0, paramArray.length);
        } catch (OfferFailedException e) {
            getContext().getLog().warn("shard {}: parameters of version {} not sent to {} {} at {}: {}; it gets them "
                            + "when it asks again", shard, version, r.requesterId() < 0 ? "the coordinator" : "trainer",
                    r.requesterId() < 0 ? "" : r.requesterId(), r.endpoint(), e.getMessage());
            return;
        }
        metrics.bytesSent.labelValues("parameters").inc(4.0 * paramArray.length);
        r.replyTo().tell(new ParamsSent(shard, version, dataPlane.endpoint()));
        if (r.requesterId() < 0 && coordinator != null && settings.policy() == ConsistencyPolicy.SYNC) {
            // an evaluation: the optimizer state of this version goes with it, for the coordinator's consistent cut
            Tensor[] state = optimizer.state();
            for (int part = 0; part < state.length; part++) {
                backend.download(state[part], stateScratch, 0);
                for (int off = 0; off < stateScratch.length; off += RESTORE_CHUNK) {
                    coordinator.tell(new OptimizerSnapshot(dataPlane.runId(), shard, version, optimizer.steps(),
                            state.length, part, off, java.util.Arrays.copyOfRange(stateScratch, off,
                            Math.min(stateScratch.length, off + RESTORE_CHUNK))));
                }
            }
        }
    }

    private Behavior<ShardCommand> onContribution(ContributionComplete c) {
        if (!ready()) {
            slots.release(c.trainer());
            return this;
        }
        if (settings.policy() == ConsistencyPolicy.BOUNDED_STALENESS) {
            // Each contribution is applied as it comes; its staleness is bounded by the trainers' clocks.
            // Robust rules need several contributions of one step, so here only the check applies. A rejected
            // contribution still advances the version (parameters unchanged): its trainer waits for a newer one.
            long crc = checksum.of(slots.slot(c.trainer()), 0, slots.length());
            boolean ok = admit(c.trainer(), c.step());
            if (ok) {
                optimizer.apply(params, slotTensors[c.trainer()]);
            }
            slots.release(c.trainer());
            version++;
            metrics.shardCommits.labelValues(shardLabel).inc();
            metrics.shardVersion.labelValues(shardLabel).set(version);
            if (coordinator != null) {
                coordinator.tell(new ShardCommitted(shard, c.step(), 1, quorum.size(), false,
                        ok ? Set.of() : Set.of(c.trainer()), Set.of(), Map.of(c.trainer(), crc), version, incarnation));
            }
            serveWaiting();
            return this;
        }
        if (c.step() != version) {
            slots.release(c.trainer());
            return this;
        }
        if (contributors.isEmpty()) {
            timers.startSingleTimer("deadline", new DeadlineReached(version), settings.deadline());
        }
        contributors.add(c.trainer());
        readySlots.add(c.trainer());
        maybeCommit(false);
        return this;
    }

    /**
     * A quorum member without samples in this step (its work-plan slice is empty): it counts towards
     * closing the step and adds nothing to the aggregate. Bounded staleness: the version moves on
     * with the parameters unchanged, as for a rejected contribution.
     */
    private Behavior<ShardCommand> onEmptyContribution(EmptyContribution e) {
        int t = e.trainerId();
        if (!ready() || t < 0 || !quorum.contains(t)) {
            return this;
        }
        if (settings.policy() == ConsistencyPolicy.BOUNDED_STALENESS) {
            version++;
            metrics.shardCommits.labelValues(shardLabel).inc();
            metrics.shardVersion.labelValues(shardLabel).set(version);
            if (coordinator != null) {
                coordinator.tell(new ShardCommitted(shard, e.step(), 0, quorum.size(), false, Set.of(), Set.of(), Map.of(),
                        version, incarnation));
            }
            serveWaiting();
            return this;
        }
        if (e.step() != version || contributors.contains(t)) {
            return this;
        }
        if (contributors.isEmpty()) {
            timers.startSingleTimer("deadline", new DeadlineReached(version), settings.deadline());
        }
        contributors.add(t);
        maybeCommit(false);
        return this;
    }

    private Behavior<ShardCommand> onDeadline(DeadlineReached d) {
        if (ready() && d.step() == version && !contributors.isEmpty()) {
            getContext().getLog().warn("shard {}: step {} closes at its deadline ({}) with {} of {} trainers", shard,
                    version, settings.deadline(), contributors.size(), quorum.size());
            maybeCommit(true);
        }
        return this;
    }

    private void maybeCommit(boolean deadlinePassed) {
        if (!ready() || contributors.isEmpty()) {
            return;
        }
        int fromQuorum = 0;
        for (int t : quorum) {
            if (contributors.contains(t)) {
                fromQuorum++;
            }
        }
        boolean enough = !quorum.isEmpty() && fromQuorum >= quorum.size() - Math.min(backup, quorum.size() - 1);
        if (!enough && !deadlinePassed) {
            return;
        }
        long aggregationStart = System.nanoTime();
        Map<Integer, Long> checksums = new HashMap<>();
        int acceptedCount = 0;
        int suspectCount = 0;
        Set<Integer> rejectedTrainers = new HashSet<>(2);
        for (int t : readySlots) {
            checksums.put(t, checksum.of(slots.slot(t), 0, slots.length()));
            if (admit(t, version)) {
                if (bias.suspect(t)) {
                    // left out of the aggregate, but still screened against it (kept until then)
                    suspects[suspectCount++] = t;
                    rejectedTrainers.add(t);
                } else {
                    accepted[acceptedCount++] = t;
                }
            } else {
                rejectedTrainers.add(t);
                slots.release(t);
            }
        }
        if (acceptedCount > 0) {
            // in arrival order: with the mean rule, the same float operations as summing slot by slot
            rule.aggregate(slotArrays, accepted, acceptedCount, slots.length(), gradArray);
            optimizer.apply(params, gradSum);
        }
        Set<Integer> outlierTrainers = Set.of();
        if (acceptedCount > 0 && outliers.screen(slotArrays, accepted, acceptedCount, slots.length(), gradArray, outlier) > 0) {
            outlierTrainers = new HashSet<>(2);
            for (int i = 0; i < acceptedCount; i++) {
                if (outlier[i]) {
                    outlierTrainers.add(accepted[i]);
                }
            }
        }
        if (bias.enabled() && acceptedCount >= 3) {
            for (int i = 0; i < acceptedCount; i++) {
                screenBias(accepted[i]);
            }
            for (int i = 0; i < suspectCount; i++) {
                screenBias(suspects[i]);
            }
            int nominated = bias.nominate(accepted, acceptedCount);
            if (nominated >= 0) {
                getContext().getLog().warn("shard {}: trainer {} keeps leaning one way (consistency {} over {} steps > {}):"
                                + " its slices are left out of the aggregate and count as rejected until it stops", shard,
                        nominated, String.format(java.util.Locale.ROOT, "%.3f", bias.consistency(nominated)),
                        bias.seen(nominated), settings.trust().biasThreshold());
            }
            if (version % REJECTION_LOG_INTERVAL == 0) {
                logBias();
            }
        }
        for (int i = 0; i < acceptedCount; i++) {
            slots.release(accepted[i]);
        }
        for (int i = 0; i < suspectCount; i++) {
            slots.release(suspects[i]);
        }
        metrics.shardAggregationSeconds.observe((System.nanoTime() - aggregationStart) / 1e9);
        long closed = version;
        int count = contributors.size(); // empty contributions (no samples in the step) included
        version++;
        slots.acceptFrom(version);
        contributors.clear();
        readySlots.clear();
        timers.cancel("deadline");
        timers.cancel("resend");
        metrics.shardCommits.labelValues(shardLabel).inc();
        metrics.shardVersion.labelValues(shardLabel).set(version);
        if (coordinator != null) {
            coordinator.tell(new ShardCommitted(shard, closed, count, quorum.size(), !enough, rejectedTrainers,
                    outlierTrainers, checksums, version, incarnation));
        }
        serveWaiting();
    }

    /**
     * A ps node died and the coordinator rolls every shard back to its last checkpoint (this one may
     * be the dead node's shard, started afresh on a surviving node). Until the restore is complete
     * no frame is accepted, no step closes and parameter requests wait.
     */
    private Behavior<ShardCommand> onRollback(RollbackShard r) {
        if (handingOver) {
            links.toEntity().accept(r);
            return this;
        }
        if (r.runId() != dataPlane.runId() || r.rollbackId() < rollbackId) {
            return this;
        }
        if (r.rollbackId() == rollbackId) {
            // The coordinator sends a rollback again until it hears back (sharding may lose messages to
            // a shard while it moves): answer again when done, else keep the chunks already here.
            if (!restoring) {
                r.coordinator().tell(new ShardRestored(shard, rollbackId, version, incarnation));
            }
            return this;
        }
        if (r.length() != paramArray.length) {
            getContext().getLog().error("shard {}: rollback {} carries {} parameters but this shard has {}; ignored",
                    shard, r.rollbackId(), r.length(), paramArray.length);
            return this;
        }
        getContext().getLog().warn("shard {}: rolling back from version {} to the checkpoint of version {} (rollback {})",
                shard, version, r.version(), r.rollbackId());
        rollbackId = r.rollbackId();
        restoring = true;
        restoreVersion = r.version();
        restoreReceived = 0;
        restoreChunks = new boolean[(paramArray.length + RESTORE_CHUNK - 1) / RESTORE_CHUNK];
        restoreReplyTo = r.coordinator();
        coordinator = r.coordinator();
        int parts = optimizer.state().length;
        if (r.optimizerParts() == parts && parts > 0) {
            int chunks = restoreChunks.length;
            restoreOptimizer = new float[parts][paramArray.length];
            restoreOptimizerGot = new boolean[parts][chunks];
            restoreOptimizerMissing = parts * chunks;
        } else {
            if (r.optimizerParts() > 0) {
                getContext().getLog().error("shard {}: rollback {} carries {} optimizer state vectors but this shard's "
                        + "optimizer keeps {} (set the same tributary.optimizer on every ps node); its optimizer starts "
                        + "from zero", shard, r.rollbackId(), r.optimizerParts(), parts);
            }
            restoreOptimizer = null;
            restoreOptimizerGot = null;
            restoreOptimizerMissing = 0;
        }
        slots.acceptFrom(Long.MAX_VALUE);
        slots.resetAll();
        contributors.clear();
        readySlots.clear();
        waiting.clear();
        timers.cancel("deadline");
        return this;
    }

    private Behavior<ShardCommand> onRestoreChunk(RestoreChunk c) {
        if (handingOver) {
            links.toEntity().accept(c);
            return this;
        }
        if (!restoring || c.runId() != dataPlane.runId() || c.rollbackId() != rollbackId) {
            return this;
        }
        if (c.offset() < 0 || c.offset() > paramArray.length - c.values().length || c.offset() % RESTORE_CHUNK != 0) {
            getContext().getLog().error("shard {}: restore chunk [{}, +{}) is outside its {} parameters; ignored", shard,
                    c.offset(), c.values().length, paramArray.length);
            return this;
        }
        if (restoreChunks[c.offset() / RESTORE_CHUNK]) {
            return this; // sent again
        }
        restoreChunks[c.offset() / RESTORE_CHUNK] = true;
        System.arraycopy(c.values(), 0, paramArray, c.offset(), c.values().length);
        restoreReceived += c.values().length;
        maybeFinishRestore();
        return this;
    }

    /** A piece of the optimizer state of a rollback's version. */
    private Behavior<ShardCommand> onOptimizerSnapshot(OptimizerSnapshot o) {
        if (handingOver) {
            links.toEntity().accept(o);
            return this;
        }
        if (!restoring || restoreOptimizer == null || o.runId() != dataPlane.runId() || o.shard() != shard
                || o.version() != restoreVersion || o.parts() != restoreOptimizer.length) {
            return this;
        }
        if (o.part() < 0 || o.part() >= o.parts() || o.offset() < 0 || o.offset() % RESTORE_CHUNK != 0
                || o.offset() > paramArray.length - o.values().length) {
            getContext().getLog().error("shard {}: optimizer state piece (part {}, [{}, +{})) is outside its {} "
                    + "parameters; ignored", shard, o.part(), o.offset(), o.values().length, paramArray.length);
            return this;
        }
        int chunk = o.offset() / RESTORE_CHUNK;
        if (restoreOptimizerGot[o.part()][chunk]) {
            return this;
        }
        restoreOptimizerGot[o.part()][chunk] = true;
        System.arraycopy(o.values(), 0, restoreOptimizer[o.part()], o.offset(), o.values().length);
        restoreOptimizerSteps = o.optimizerSteps();
        restoreOptimizerMissing--;
        maybeFinishRestore();
        return this;
    }

    private void maybeFinishRestore() {
        if (restoreReceived < paramArray.length || restoreOptimizerMissing > 0) {
            return;
        }
        boolean withOptimizer = restoreOptimizer != null;
        if (withOptimizer) {
            Tensor[] state = optimizer.state();
            for (int i = 0; i < state.length; i++) {
                backend.upload(restoreOptimizer[i], 0, state[i]);
            }
            optimizer.restoreSteps(restoreOptimizerSteps);
            restoreOptimizer = null;
            restoreOptimizerGot = null;
        } else {
            optimizer.reset();
        }
        restoring = false;
        takePartAt(restoreVersion);
        getContext().getLog().warn("shard {}: restored at version {} (rollback {}); {}", shard, version, rollbackId,
                withOptimizer ? "optimizer state of that version restored (" + optimizer.steps() + " steps)"
                        : "optimizer state starts again from zero");
        restoreReplyTo.tell(new ShardRestored(shard, rollbackId, version, incarnation));
        serveWaiting();
    }

    /**
     * Runs the contribution check on a trainer's completed slot; a rejection is counted and logged at
     * most once per {@link #REJECTION_LOG_INTERVAL} steps. The caller releases the slot.
     */
    private boolean admit(int trainer, long step) {
        ContributionCheck.Verdict verdict = check.check(slots.slot(trainer), slots.length());
        if (verdict == ContributionCheck.Verdict.ACCEPTED) {
            return true;
        }
        rejectedSinceLog++;
        if (lastRejectionLog == Long.MIN_VALUE || step - lastRejectionLog >= REJECTION_LOG_INTERVAL) {
            getContext().getLog().warn("shard {}: {} contribution(s) rejected since {}; latest: trainer {} at step {}, {} "
                            + "(L2 norm {}, bound {})", shard, rejectedSinceLog,
                    lastRejectionLog == Long.MIN_VALUE ? "the start" : "step " + lastRejectionLog, trainer, step,
                    verdict, check.norm(), check.maxNorm() > 0 ? check.maxNorm() : "none");
            rejectedSinceLog = 0;
            lastRejectionLog = step;
        }
        return false;
    }

    private void screenBias(int trainer) {
        boolean before = bias.suspect(trainer);
        boolean now = bias.observe(trainer, slotArrays[trainer], gradArray);
        if (before && !now) {
            getContext().getLog().info("shard {}: trainer {} no longer leans one way (consistency {} < {}): aggregated"
                    + " again", shard, trainer, String.format(java.util.Locale.ROOT, "%.3f", bias.consistency(trainer)),
                    bias.release());
        }
    }

    private void logBias() {
        StringBuilder line = new StringBuilder();
        for (int t : quorum) {
            if (bias.seen(t) > 0) {
                line.append(line.length() == 0 ? "" : ", ").append(t).append('=')
                        .append(String.format(java.util.Locale.ROOT, "%.3f", bias.consistency(t)));
            }
        }
        getContext().getLog().info("shard {}: bias consistency at version {} (trainer=cosine, threshold {}): {}", shard,
                version, settings.trust().biasThreshold(), line);
    }

    private void serveWaiting() {
        if (waiting.isEmpty()) {
            return;
        }
        List<RequestParams> now = new ArrayList<>();
        waiting.removeIf(r -> {
            if (r.minVersion() <= version) {
                now.add(r);
                return true;
            }
            return false;
        });
        now.forEach(this::sendParams);
    }
}
