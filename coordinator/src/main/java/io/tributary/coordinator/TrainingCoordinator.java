package io.tributary.coordinator;

import io.tributary.protocol.ConsistencyPolicy;
import io.tributary.kernels.Backend;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.dataplane.ParameterAssembler;
import io.tributary.protocol.TrainerProtocol.Assignment;
import io.tributary.protocol.TrainerProtocol.ClockFloor;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.TrainerProtocol.Finish;
import io.tributary.protocol.TrainerProtocol.ParamsSent;
import io.tributary.protocol.CoordinatorProtocol.MemberOffence;
import io.tributary.protocol.CoordinatorProtocol.RegisterTrainer;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.TrainerProtocol.Rewind;
import io.tributary.protocol.CoordinatorProtocol.HandOverDone;
import io.tributary.protocol.TrainerProtocol.ResendGradient;
import io.tributary.protocol.ShardProtocol.ShardReply;
import io.tributary.protocol.CoordinatorProtocol.ShardStarted;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.CoordinatorProtocol.ShardRestored;
import io.tributary.protocol.ShardProtocol.SetQuorum;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.protocol.CoordinatorProtocol.StepDone;
import io.tributary.protocol.WorkPlan;
import io.tributary.ps.aggregate.AggregationSettings;
import io.tributary.protocol.ShardLayout;
import io.tributary.ps.shard.ShardSettings;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.model.ModelShape;
import io.tributary.coordinator.Roster.Member;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The training coordinator, a cluster singleton on a {@code coordinator} node. It routes the run's
 * messages to its parts and follows the steps itself: {@link RosterKeeper} admits, loses and
 * quarantines trainers ({@link Roster} knows them), {@link WorkDispatch} hands out the work plans
 * and leases, {@link ShardRecovery} starts, relays and rolls back shards ({@link Recovery} keeps the
 * cut), and this class counts commits, evaluates ({@link EvaluationSchedule}, {@link Evaluator}),
 * records and ends the run.
 */
public final class TrainingCoordinator extends AbstractBehavior<CoordinatorCommand> implements RunView {

    /**
     * @param minTrainers how many trainers must register before the run starts
     * @param globalBatch samples per step over all trainers
     */
    public record Settings(long runId, int minTrainers, int globalBatch, int epochs, long seed, ShardSettings shards,
                           int evalEverySteps, double reputationRate, double quarantineBelow, long resumeStep,
                           WorkSettings work) {
    }

    /** The node-local things the coordinator uses (it is created on the node that hosts it). */
    public record Resources(NodeDataPlane dataPlane, Supplier<Backend> backend, ModelShape spec,
                            Supplier<Dataset> testSet, int trainCount,
                            Function<Integer, EntityRef<ShardCommand>> shards, RunListener listener,
                            CoordinatorMetrics metrics, RunRecorder recorder, Supplier<float[]> initialParameters,
                            MemberIdentities identities,
                            ActorRef<org.apache.pekko.cluster.ddata.typed.javadsl.Replicator.Command> stateReplicator,
                            java.time.Duration stateInterval) {
        public Resources {
            java.util.Objects.requireNonNull(identities, "identities (MemberIdentities.BY_NODE_ID takes every trainer at its word)");
        }

        /** Without stored state: a coordinator that no successor can take over from (tests). */
        public Resources(NodeDataPlane dataPlane, Supplier<Backend> backend, ModelShape spec,
                         Supplier<Dataset> testSet, int trainCount,
                         Function<Integer, EntityRef<ShardCommand>> shards, RunListener listener,
                         CoordinatorMetrics metrics, RunRecorder recorder, Supplier<float[]> initialParameters,
                         MemberIdentities identities) {
            this(dataPlane, backend, spec, testSet, trainCount, shards, listener, metrics, recorder, initialParameters,
                    identities, null, java.time.Duration.ofSeconds(1));
        }
    }

    record EvalParamsReady(long version) implements CoordinatorCommand {
    }

    /** This node learned a shard's owner after refusing its frames (never sent: from the node's event stream). */
    record ShardOwnerKnown(int shard) implements CoordinatorCommand {
    }

    /** A coordinator that took the run over has waited long enough for the shards' commits sent again. */
    record CaughtUp() implements CoordinatorCommand {
    }

    /** Read the stored state again (the last read found no majority). */
    record ReadAgain() implements CoordinatorCommand {
    }

    /** How long a coordinator that took the run over waits for the commits the shards send again. */
    static final java.time.Duration CATCH_UP = java.time.Duration.ofSeconds(3);

    private final Settings settings;
    private final Resources res;
    private final ShardLayout layout;
    private final Roster roster;
    private final Recovery recovery;
    private final Evaluator evaluator;
    private final ParameterAssembler evalAssembler;
    private final ActorRef<ShardReply> ignoreParamsSent;
    private final GradientChecksums checksums;
    private final CreditLedger ledger;
    private final UpdateAudit audit;
    /** Per step, how many shards committed it (sync): a step is the run's once all have. */
    private final TreeMap<Long, Integer> commits;
    /** Where the run's state is kept for a successor (null: nowhere, a coordinator of tests). */
    private final CoordinatorState stored;
    /** The fingerprint of what others act on (plans, lease, roster, evaluations) when last stored. */
    private long storedDecisions;
    /** Something changed since the last store. */
    private boolean dirty;
    /** Took the run over: commits wait in {@link #pendingCommits} until the shards sent theirs again. */
    private boolean catchingUp;
    private final java.util.List<ShardCommitted> pendingCommits = new java.util.ArrayList<>();
    /** The shards that answered {@link io.tributary.protocol.ShardProtocol.ResendCommits}. */
    private final java.util.BitSet resent = new java.util.BitSet();
    /**
     * Per shard, the highest version the catch-up took (-1: none): the same commit arriving late through the
     * singleton proxy is a second delivery of what was taken, not a second application.
     */
    private long[] caughtUpTo = new long[0];
    private long takeoverNanos;
    private long storedStep = -1;
    private int takeovers;
    private final WorkDispatch work;
    private final ShardRecovery shardRecovery;
    private final RosterKeeper keeper;
    /** Made at the start, when the number of trainers fixes the steps. */
    private EvaluationSchedule evaluations;
    private boolean started;
    private boolean finished;
    /**
     * The quorum's generation. It starts from this incarnation's start time (in thousandths of a
     * millisecond's worth of changes) so that a restarted coordinator's quorums are newer than its
     * predecessor's everywhere: shards and data planes ignore a generation not above the last they took.
     */
    private long generation = System.currentTimeMillis() * 1000;
    private int partitionCount;
    private int localBatch;
    private int stepsPerEpoch;
    private long totalSteps;
    private long committedSteps;
    private long contributions;
    private long startNanos;
    /** When the last step was committed (0 before). */
    private long trainedNanos;
    private long samples;
    private double loss = Double.NaN;
    /** Each trainer's latest report of the data-plane bytes its node sent (for the run's scalars). */
    private final org.agrona.collections.Long2LongHashMap trainerBytes = new org.agrona.collections.Long2LongHashMap(0L);
    private long trainerBytesTotal;
    private double lastAccuracy = Double.NaN;
    private int maxStaleness;
    private long closedByDeadline;
    private long closedShort;
    private long lastProgressNanos;

    /** Messages held while the stored state is read. */
    private static final int STASH = 100_000;

    /**
     * The coordinator: with a state replicator, it first reads the run's stored state (messages wait) and,
     * when there is one, takes the run over from it rather than starting it.
     */
    public static Behavior<CoordinatorCommand> create(Settings settings, Resources resources) {
        if (resources.stateReplicator() == null) {
            return Behaviors.setup(ctx -> new TrainingCoordinator(ctx, settings, resources, null));
        }
        return Behaviors.withStash(STASH, stash -> Behaviors.setup(ctx -> {
            CoordinatorState.read(ctx, resources.stateReplicator(), settings.runId());
            long[] dropped = new long[1];
            return Behaviors.receive(CoordinatorCommand.class)
                    .onMessage(CoordinatorState.Read.class, r -> {
                        StoredRun run;
                        try {
                            run = CoordinatorState.storedIn(r, org.apache.pekko.actor.typed.ActorRefResolver.get(
                                    ctx.getSystem()), settings.runId());
                        } catch (RuntimeException e) {
                            // never start the run over: the audits would count its first steps twice
                            ctx.getLog().error("cannot read the run's stored state: {}; reading again in 1 s",
                                    e.getMessage());
                            ctx.scheduleOnce(java.time.Duration.ofSeconds(1), ctx.getSelf(), new ReadAgain());
                            return Behaviors.same();
                        }
                        if (dropped[0] > 0) {
                            ctx.getLog().warn("{} messages arrived while the stored state was read and did not fit"
                                    + " the stash of {}: dropped (their senders ask again)", dropped[0], STASH);
                        }
                        return stash.unstashAll(new TrainingCoordinator(ctx, settings, resources, run));
                    })
                    .onMessage(ReadAgain.class, m -> {
                        CoordinatorState.read(ctx, resources.stateReplicator(), settings.runId());
                        return Behaviors.same();
                    })
                    .onAnyMessage(m -> {
                        if (stash.isFull()) {
                            dropped[0]++;
                        } else {
                            stash.stash(m);
                        }
                        return Behaviors.same();
                    })
                    .build();
        }));
    }

    private TrainingCoordinator(ActorContext<CoordinatorCommand> ctx, Settings settings, Resources res, StoredRun from) {
        super(ctx);
        this.settings = settings;
        this.res = res;
        this.layout = res.dataPlane().layout();
        this.roster = from != null ? from.roster : new Roster(settings.shards().maxTrainers());
        this.recovery = new Recovery(settings.runId(), layout);
        this.evaluator = new Evaluator(res.backend(), res.spec(), res.testSet());
        this.ledger = from != null ? from.ledger : new CreditLedger(settings.reputationRate(), settings.quarantineBelow());
        this.audit = from != null ? from.audit : new UpdateAudit(settings.resumeStep());
        this.commits = from != null ? from.commits : new TreeMap<>();
        ActorRef<CoordinatorCommand> self = ctx.getSelf();
        this.evalAssembler = new ParameterAssembler(layout, v -> self.tell(new EvalParamsReady(v)));
        res.dataPlane().hostReplica(NodeDataPlane.COORDINATOR_REPLICA, evalAssembler);
        this.ignoreParamsSent = ctx.messageAdapter(ShardReply.class, p -> (CoordinatorCommand) p);
        ctx.getSystem().eventStream().tell(new org.apache.pekko.actor.typed.eventstream.EventStream.Subscribe<>(
                io.tributary.dataplane.ShardOwnerKnown.class,
                ctx.messageAdapter(io.tributary.dataplane.ShardOwnerKnown.class, k -> new ShardOwnerKnown(k.shard()))));
        GradientChecksums.MismatchListener mismatches = (trainer, step, shard, sent, received) -> {
            res.metrics().checksumMismatches.inc();
            ctx.getLog().error("gradient of trainer {} step {} for shard {} arrived with CRC32 {} but was sent with {}",
                    trainer, step, shard, received, sent);
        };
        this.checksums = from != null ? from.checksums : new GradientChecksums(layout.shardCount(), mismatches);
        checksums.listener(mismatches);
        this.work = new WorkDispatch(settings, roster, recovery, this, res.listener(), ctx.getLog());
        this.keeper = new RosterKeeper(ctx, settings, roster, ledger, work, res.listener(), res.metrics(), res.recorder(),
                this, res.identities());
        this.shardRecovery = new ShardRecovery(ctx, settings, layout, recovery, audit, roster, res.shards(),
                res.listener(), this);
        ActorRef<ClusterEvent.MemberRemoved> removed = ctx.messageAdapter(ClusterEvent.MemberRemoved.class,
                e -> new ShardRecovery.MemberGone(e.member(), e.previousStatus()));
        Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(removed, ClusterEvent.MemberRemoved.class));
        if (settings.shards().replicated()) {
            ctx.getSystem().receptionist().tell(org.apache.pekko.actor.typed.receptionist.Receptionist.subscribe(
                    io.tributary.ps.shard.ShardReplicas.KEY, ctx.messageAdapter(
                            org.apache.pekko.actor.typed.receptionist.Receptionist.Listing.class,
                            l -> new ShardRecovery.ReplicaStores(l.getServiceInstances(io.tributary.ps.shard.ShardReplicas.KEY)))));
        }
        this.stored = res.stateReplicator() == null ? null
                : new CoordinatorState(ctx, res.stateReplicator(), settings.runId(), res.metrics());
        if (stored != null) {
            ctx.scheduleOnce(res.stateInterval(), ctx.getSelf(), new CoordinatorState.Tick());
        }
        if (from == null) {
            ctx.getLog().info("coordinator up: waiting for {} trainers ({} policy, {} shards)", settings.minTrainers(),
                    settings.shards().policy().configName(), settings.shards().shards());
        } else {
            takeOver(from);
        }
    }

    // ---- taking the run over, and storing it for a successor ------------------------------------------

    /**
     * This incarnation found the run's state stored by a predecessor (its node died, paused or left): it
     * goes on from there. The trainers and shards reach it through the singleton proxies; it watches the
     * trainers again, gives the shards a new quorum generation, and asks them for every commit after the
     * stored state's, which it takes in version order once they are in ({@link #catchUp}).
     */
    private void takeOver(StoredRun from) {
        takeoverNanos = System.nanoTime();
        takeovers = from.takeovers + 1;
        res.metrics().takeOvers.inc();
        storedStep = from.committedSteps;
        started = from.started;
        finished = from.finished;
        partitionCount = from.partitionCount;
        localBatch = from.localBatch;
        stepsPerEpoch = from.stepsPerEpoch;
        totalSteps = from.totalSteps;
        committedSteps = from.committedSteps;
        contributions = from.contributions;
        samples = from.samples;
        loss = from.loss;
        trainerBytes.clear();
        for (int i = 0; from.trainerBytes != null && i + 1 < from.trainerBytes.length; i += 2) {
            trainerBytes.put(from.trainerBytes[i], from.trainerBytes[i + 1]);
        }
        trainerBytesTotal = from.trainerBytesTotal;
        lastAccuracy = from.lastAccuracy;
        maxStaleness = from.maxStaleness;
        closedByDeadline = from.closedByDeadline;
        closedShort = from.closedShort;
        evaluations = from.evaluations;
        long now = System.nanoTime();
        startNanos = now - from.elapsedNanos;
        trainedNanos = from.trainedNanos < 0 ? 0 : startNanos + from.trainedNanos;
        if (from.planner != null) {
            work.restore(from.planner, from.lastAdaptStep, from.lastFloor);
        }
        keeper.watchAll();
        getContext().getLog().warn("coordinator took run {} over at step {} of {} (stored state of step {}, coordinator"
                        + " number {}): {} trainers, asking the shards for their commits since", settings.runId(),
                committedSteps, totalSteps, storedStep, takeovers + 1, roster.liveCount());
        if (!started || finished) {
            catchUp();
            return;
        }
        sendQuorum();
        catchingUp = true;
        for (int k = 0; k < layout.shardCount(); k++) {
            res.shards().apply(k).tell(new io.tributary.protocol.ShardProtocol.ResendCommits(settings.runId(),
                    audit.lastVersion(k) + 1, getContext().getSelf()));
        }
        getContext().scheduleOnce(CATCH_UP, getContext().getSelf(), new CaughtUp());
    }

    /** The commits the shards sent again, and those that came meanwhile, in version order; then the run goes on. */
    private void catchUp() {
        if (!catchingUp && started && !finished) {
            return; // every shard answered before the time-out: done already
        }
        catchingUp = false;
        pendingCommits.sort(java.util.Comparator.comparingLong(ShardCommitted::version)
                .thenComparingInt(ShardCommitted::shard));
        long highest = committedSteps;
        int taken = 0;
        caughtUpTo = new long[layout.shardCount()];
        java.util.Arrays.fill(caughtUpTo, -1);
        for (ShardCommitted c : pendingCommits) {
            if (c.version() > audit.lastVersion(c.shard())) {
                onShardCommitted(c);
                taken++;
            }
            if (c.shard() >= 0 && c.shard() < caughtUpTo.length) {
                caughtUpTo[c.shard()] = Math.max(caughtUpTo[c.shard()], c.version());
            }
            highest = Math.max(highest, c.step() + 1);
        }
        pendingCommits.clear();
        if (started && !finished && work.planner() != null) {
            // the predecessor may have leased up to lease-steps beyond the progress it saw, after it last stored
            work.planner().leaseAtLeast(highest + work.planner().leaseSteps());
            work.extendLease();
            EvaluationSchedule.Due due = evaluations == null ? null : evaluations.restartInFlight();
            if (due != null) {
                evalAssembler.expect(due.minVersion());
                for (int k = 0; k < layout.shardCount(); k++) {
                    res.shards().apply(k).tell(new RequestParams(-1, res.dataPlane().endpoint(), due.minVersion(),
                            ignoreParamsSent));
                }
            } else if (evaluations != null) {
                maybeEvaluate();
            }
        }
        java.util.List<org.apache.pekko.cluster.Member> members = new java.util.ArrayList<>();
        Cluster.get(getContext().getSystem()).state().getMembers().forEach(members::add);
        shardRecovery.ownersGoneWhileAway(members);
        double seconds = (System.nanoTime() - takeoverNanos) / 1e9;
        getContext().getLog().warn("coordinator caught up in {} s: {} commits taken from the shards, the run stands at"
                + " step {}", String.format(java.util.Locale.ROOT, "%.2f", seconds), taken, committedSteps);
        res.listener().coordinatorTookOver(Cluster.get(getContext().getSystem()).selfMember().address().toString(),
                committedSteps, storedStep, seconds);
        store(true);
    }

    /** What the stored state holds, the live parts themselves (written out at once, on this thread). */
    private StoredRun snapshot() {
        StoredRun r = new StoredRun();
        r.runId = settings.runId();
        r.roster = roster;
        r.ledger = ledger;
        r.audit = audit;
        r.checksums = checksums;
        r.commits = commits;
        r.planner = work.planner();
        r.lastAdaptStep = work.lastAdaptStep();
        r.lastFloor = work.lastFloor();
        r.evaluations = evaluations;
        r.started = started;
        r.finished = finished;
        r.partitionCount = partitionCount;
        r.localBatch = localBatch;
        r.stepsPerEpoch = stepsPerEpoch;
        r.totalSteps = totalSteps;
        r.committedSteps = committedSteps;
        r.contributions = contributions;
        r.samples = samples;
        r.loss = loss;
        long[] bytes = new long[2 * trainerBytes.size()];
        int[] i = {0};
        trainerBytes.forEach((t, b) -> {
            bytes[i[0]++] = t;
            bytes[i[0]++] = b;
        });
        r.trainerBytes = bytes;
        r.trainerBytesTotal = trainerBytesTotal;
        r.lastAccuracy = lastAccuracy;
        r.maxStaleness = maxStaleness;
        r.closedByDeadline = closedByDeadline;
        r.closedShort = closedShort;
        long now = System.nanoTime();
        r.elapsedNanos = started ? now - startNanos : 0;
        r.trainedNanos = trainedNanos == 0 ? -1 : trainedNanos - startNanos;
        r.takeovers = takeovers;
        return r;
    }

    /** A fingerprint of what others act on: the plans and lease, the roster, the evaluations, the run's state. */
    private long decisions() {
        WorkPlanner p = work.planner();
        long f = (started ? 1 : 0) + (finished ? 2 : 0);
        f = f * 31 + (p == null ? -1 : p.plansMade());
        f = f * 31 + (p == null ? -1 : p.leasedUntil());
        f = f * 31 + roster.size();
        f = f * 31 + roster.liveCount();
        f = f * 31 + roster.active().size();
        f = f * 31 + (evaluations == null ? 0 : evaluations.pending());
        f = f * 31 + Double.hashCode(lastAccuracy);
        return f;
    }

    /**
     * After each message: what others act on changed, so the state is stored now (or as soon as the write
     * under way completes); anything else is stored with the next tick.
     */
    private void afterMessage() {
        if (stored == null || catchingUp) {
            return;
        }
        long d = decisions();
        if (d != storedDecisions) {
            store(true);
        } else {
            dirty = true;
        }
    }

    private void store(boolean now) {
        if (stored == null || catchingUp || (!now && !dirty)) {
            return;
        }
        storedDecisions = decisions();
        dirty = false;
        stored.store(this::snapshot);
    }

    private Behavior<CoordinatorCommand> onStateWritten(CoordinatorState.Written w) {
        if (stored.written(w)) {
            store(true);
        }
        return this;
    }

    private Behavior<CoordinatorCommand> onStoreTick(CoordinatorState.Tick t) {
        store(false);
        getContext().scheduleOnce(res.stateInterval(), getContext().getSelf(), new CoordinatorState.Tick());
        return this;
    }

    @Override
    public Receive<CoordinatorCommand> createReceive() {
        Receive<CoordinatorCommand> handlers = handlers();
        return new Receive<>() {
            @Override
            public Behavior<CoordinatorCommand> receiveMessage(CoordinatorCommand m) throws Exception {
                Behavior<CoordinatorCommand> next = handlers.receiveMessage(m);
                afterMessage();
                return next;
            }

            @Override
            public Behavior<CoordinatorCommand> receiveSignal(org.apache.pekko.actor.typed.Signal s) throws Exception {
                return handlers.receiveSignal(s);
            }
        };
    }

    private Receive<CoordinatorCommand> handlers() {
        return newReceiveBuilder()
                .onMessage(CoordinatorState.Written.class, this::onStateWritten)
                .onMessage(CoordinatorState.Tick.class, this::onStoreTick)
                .onMessage(io.tributary.protocol.CoordinatorProtocol.CommitsResent.class, m -> then(() -> {
                    if (catchingUp && m.shard() >= 0 && m.shard() < layout.shardCount()) {
                        resent.set(m.shard());
                        if (resent.cardinality() == layout.shardCount()) {
                            catchUp(); // every shard sent what it holds: no need to wait longer
                        }
                    }
                }))
                .onMessage(CaughtUp.class, m -> then(() -> {
                    if (catchingUp) {
                        catchUp();
                    }
                }))
                .onMessage(RegisterTrainer.class, m -> then(() -> keeper.onRegister(m)))
                .onMessage(MemberOffence.class, m -> then(() -> keeper.onOffence(m)))
                .onMessage(StepDone.class, this::onStepDone)
                .onMessage(ShardCommitted.class, this::onShardCommitted)
                .onMessage(RosterKeeper.TrainerTerminated.class, m -> then(() -> keeper.onTrainerTerminated(m)))
                .onMessage(EvalParamsReady.class, this::onEvalParams)
                .onMessage(ShardOwnerKnown.class, this::onShardOwnerKnown)
                .onMessage(ParamsSent.class, p -> this)
                .onMessage(ResendGradient.class, p -> this)
                .onMessage(ShardStarted.class, m -> then(() -> shardRecovery.onShardStarted(m)))
                .onMessage(StateChunk.class, m -> then(() -> shardRecovery.onStateChunk(m)))
                .onMessage(HandOverDone.class, m -> then(() -> shardRecovery.onHandOverDone(m)))
                .onMessage(ShardRecovery.MemberGone.class, m -> then(() -> shardRecovery.onMemberGone(m)))
                .onMessage(ShardRestored.class, m -> then(() -> shardRecovery.onShardRestored(m)))
                .onMessage(ShardRecovery.RollbackTick.class, m -> then(() -> shardRecovery.onRollbackTick(m)))
                .onMessage(ShardRecovery.PromotionTick.class, m -> then(() -> shardRecovery.onPromotionTick(m)))
                .onMessage(ShardRecovery.WakeTick.class, m -> then(() -> shardRecovery.onWakeTick(m)))
                .onMessage(ShardRecovery.ReplicaStores.class, m -> then(() -> shardRecovery.onReplicaStores(m)))
                .onMessage(io.tributary.protocol.ShardProtocol.ReplicaCommit.class,
                        m -> shardRecovery.takesReplicaCommit(m) ? onShardCommitted(m.commit()) : this)
                .onMessage(ReadAgain.class, m -> this)
                .onSignal(PostStop.class, s -> {
                    res.dataPlane().unhostReplica(NodeDataPlane.COORDINATOR_REPLICA, evalAssembler);
                    evaluator.close();
                    return this;
                })
                .build();
    }

    private Behavior<CoordinatorCommand> then(Runnable handler) {
        handler.run();
        return this;
    }

    private boolean sync() {
        return settings.shards().policy().synchronous();
    }

    // ---- the run: start, steps, commits, evaluations, the end -----------------------------------------

    @Override
    public void startRun() {
        started = true;
        partitionCount = roster.size();
        // local SGD: a step is a round of inner steps, each of the global batch over all trainers
        localBatch = Math.max(1, settings.globalBatch() / partitionCount) * settings.shards().innerSteps();
        int smallestPartition = res.trainCount() / partitionCount;
        if (smallestPartition < localBatch) {
            String why = "each of the " + partitionCount + " trainers has " + smallestPartition + " training samples, fewer"
                    + " than one step's batch of " + localBatch + (settings.shards().innerSteps() > 1
                    ? " (local SGD: tributary.consistency.inner-steps = " + settings.shards().innerSteps()
                    + " times its share of the batch)" : "") + ": lower tributary.train.batch-size"
                    + (settings.shards().innerSteps() > 1 ? " or tributary.consistency.inner-steps" : "")
                    + ", or train on more samples (tributary.data.train-limit)";
            getContext().getLog().error("{}", why);
            finished = true;
            roster.tellAll(new Finish(why));
            res.listener().failed(why);
            return;
        }
        stepsPerEpoch = Math.max(1, smallestPartition / localBatch);
        totalSteps = (long) stepsPerEpoch * settings.epochs();
        startNanos = System.nanoTime();
        long first = settings.resumeStep();
        if (first >= totalSteps) {
            String why = "the checkpoint to resume from is at step " + first + " but this run has only " + totalSteps
                    + " steps (" + settings.epochs() + " epochs of " + stepsPerEpoch + "): raise --epochs";
            getContext().getLog().error("{}", why);
            finished = true;
            roster.tellAll(new Finish(why));
            res.listener().failed(why);
            return;
        }
        evaluations = new EvaluationSchedule(stepsPerEpoch, totalSteps, settings.evalEverySteps());
        committedSteps = first;
        recovery.start(res.initialParameters().get(), first);
        sendQuorum();
        WorkPlan firstPlan = work.start(stepsPerEpoch, localBatch * partitionCount, totalSteps, first,
                settings.shards().trust().rule() == AggregationSettings.Rule.MEAN);
        for (Member m : roster.all()) {
            m.doneSteps = first;
            m.ref.tell(assignment(m, first));
            m.ref.tell(firstPlan);
        }
        if (first > 0) {
            getContext().getLog().info("run {} resumes at step {} of {}", settings.runId(), first, totalSteps);
            res.listener().resumed(first, totalSteps);
        }
        res.listener().started(partitionCount, layout.shardCount(), totalSteps, stepsPerEpoch, localBatch,
                settings.shards().policy().configName());
        work.announce(firstPlan, "the start");
        getContext().getLog().info("run {} started: {} trainers, batch {} each, {} steps per epoch, {} steps",
                settings.runId(), partitionCount, localBatch, stepsPerEpoch, totalSteps);
    }

    @Override
    public Assignment assignment(Member m, long startStep) {
        Set<Integer> shards = new HashSet<>();
        for (int k = 0; k < layout.shardCount(); k++) {
            shards.add(k);
        }
        return new Assignment(settings.runId(), m.id, partitionCount, startStep, totalSteps, stepsPerEpoch,
                localBatch, settings.shards().innerSteps(), settings.shards().policy(), settings.shards().staleness(), shards);
    }

    @Override
    public void sendQuorum() {
        generation++;
        SetQuorum q = quorum();
        for (int k = 0; k < layout.shardCount(); k++) {
            res.shards().apply(k).tell(q);
        }
    }

    /** The current quorum generation (also what a shard that moved starts with). */
    @Override
    public SetQuorum quorum() {
        return new SetQuorum(settings.runId(), generation, roster.quorumEndpoints(), settings.shards().backup(),
                getContext().getSelf());
    }

    private Behavior<CoordinatorCommand> onStepDone(StepDone d) {
        Member m = roster.byId(d.trainerId());
        if (!d.signer().isEmpty() && (m == null || !d.signer().equals(m.dataEndpoint))) {
            // signed by a trainer node that does not hold this id: it speaks for another trainer
            res.metrics().controlRefused.labelValues("not_its_id", "StepDone").inc();
            Member liar = roster.byEndpoint(d.signer());
            String why = "reported step " + d.step() + " in the name of trainer " + d.trainerId()
                    + (m == null ? " (no such trainer)" : " (" + m.nodeId + ")");
            if (liar == null) {
                getContext().getLog().error("a trainer node at {} {}: refused; it holds no trainer of this run",
                        d.signer(), why);
            } else {
                keeper.quarantine(liar.id, "it " + why + " (not_its_id)");
            }
            return this;
        }
        if (m == null || finished || m.rewinding || recovery.rollingBack()) {
            return this;
        }
        if (!m.active()) {
            // gone or quarantined: the work plan made when it left handed its undelivered samples on, and the
            // shards left it out of the quorum; a report still in flight would count them a second time
            getContext().getLog().info("trainer {} reported step {} after it left the run (quarantined or gone): not"
                    + " counted", m.id, d.step());
            return this;
        }
        m.doneSteps = Math.max(m.doneSteps, d.step() + 1);
        if (d.samples() > 0 && d.computeNanos() > 0) {
            m.measured(d.computeNanos());
        }
        ledger.computed(d.trainerId(), d.computeNanos());
        checksums.sent(d.trainerId(), d.step(), d.checksums());
        samples += d.samples();
        contributions++;
        loss = Double.isNaN(loss) ? d.loss() : 0.98 * loss + 0.02 * d.loss();
        res.metrics().runLoss.set(loss);
        long before = trainerBytes.get(d.trainerId());
        if (d.bytesSent() > before) {
            trainerBytesTotal += d.bytesSent() - before;
            trainerBytes.put(d.trainerId(), d.bytesSent());
        }
        if (settings.shards().policy() == ConsistencyPolicy.BOUNDED_STALENESS) {
            long floor = roster.slowestDone();
            // How far ahead of the slowest this step ran, by the floor the trainer itself went by;
            // that floor can never be ahead of the real one (the coordinator is its only source).
            long lastFloor = work.lastFloor();
            long seen = Math.min(d.slowestSeen(), Math.max(lastFloor, 0));
            maxStaleness = (int) Math.max(maxStaleness, d.step() - seen);
            if (floor != Long.MAX_VALUE && floor > lastFloor) {
                long previous = lastFloor;
                work.floor(floor);
                roster.tellLive(new ClockFloor(floor));
                for (long s = Math.max(previous, 0) + 1; s <= floor; s++) {
                    if (evaluations.evaluatesAt(s)) {
                        evaluations.add(s, 0);
                    }
                }
                committedSteps = floor;
                markTrained();
                maybeEvaluate();
                work.extendLease();
                work.maybeAdapt();
            }
        }
        showProgress();
        return this;
    }

    private void markTrained() {
        if (committedSteps >= totalSteps && trainedNanos == 0) {
            trainedNanos = System.nanoTime();
        }
    }

    private void showProgress() {
        long now = System.nanoTime();
        if (now - lastProgressNanos < 200_000_000L) {
            return;
        }
        lastProgressNanos = now;
        res.metrics().runStep.set(committedSteps);
        res.metrics().runLiveTrainers.set(roster.liveCount());
        double seconds = (now - startNanos) / 1e9;
        res.listener().progress(committedSteps, totalSteps, samples / Math.max(seconds, 1e-9), roster.liveCount(), loss,
                lastAccuracy);
    }

    private Behavior<CoordinatorCommand> onShardCommitted(ShardCommitted c) {
        if (catchingUp) {
            pendingCommits.add(c); // taken in version order with the shards' commits sent again
            return this;
        }
        if (c.shard() >= 0 && c.shard() < caughtUpTo.length && c.version() <= caughtUpTo[c.shard()]) {
            return this; // delivered twice (sent again, and late through the proxy): taken once, at the catch-up
        }
        if (recovery.rollingBack()) {
            return this; // commits from before the rollback reached us late: void
        }
        for (Map.Entry<Integer, Long> e : c.checksums().entrySet()) {
            checksums.received(e.getKey(), c.step(), c.shard(), e.getValue());
        }
        if (work.planner() != null && c.shard() == 0 && !finished) {
            for (int t : c.checksums().keySet()) {
                // credits from verified facts: the slice the shard accepted, the samples the plan gave
                int n = work.planner().served(t, c.step());
                Member m = roster.byId(t);
                if (n > 0 && m != null) {
                    m.samples += n;
                    ledger.served(t, n);
                }
            }
            if (sync() // bounded staleness: one commit per gradient
                    && work.planner().committed(c.step(), c.checksums().keySet())) {
                String why = "shard 0 committed step " + c.step() + " without the gradient of trainer(s) "
                        + work.planner().lastOrphaned() + ": their samples of it go to the others";
                getContext().getLog().warn(why);
                work.replan(why, null);
            }
        }
        long ownerChanges = audit.ownerChanges();
        String wrong = audit.committed(c.shard(), c.version(), c.owner());
        if (wrong != null) {
            getContext().getLog().error("update audit: {}", wrong);
        } else if (audit.ownerChanges() > ownerChanges) {
            getContext().getLog().warn("shard {} changed owner at version {}: now {}", c.shard(), c.version(), c.owner());
        }
        if (!finished) {
            for (int fallen : ledger.sliceVerdicts(c.checksums().keySet(), c.rejected(), c.outliers())) {
                keeper.quarantine(fallen);
            }
        }
        if (!sync() || finished) {
            return this;
        }
        if (c.byDeadline()) {
            closedByDeadline++;
        }
        if (c.contributors() < c.quorum()) {
            closedShort++;
        }
        int n = commits.merge(c.step(), 1, Integer::sum);
        if (n == layout.shardCount()) {
            commits.remove(c.step());
            committedSteps = Math.max(committedSteps, c.step() + 1);
            markTrained();
            work.extendLease();
            work.maybeAdapt();
            long s = c.step() + 1;
            if (res.recorder() != null) {
                double seconds = (System.nanoTime() - startNanos) / 1e9;
                res.recorder().recordStep(s, seconds, loss, samples / Math.max(seconds, 1e-9), roster.liveCount(),
                        trainerBytesTotal);
            }
            if (evaluations != null && evaluations.evaluatesAt(s)) {
                evaluations.add(s, s);
                maybeEvaluate();
            }
            showProgress();
        }
        return this;
    }

    private void maybeEvaluate() {
        EvaluationSchedule.Due next = evaluations.startNext();
        if (next == null) {
            return;
        }
        evalAssembler.expect(next.minVersion());
        for (int k = 0; k < layout.shardCount(); k++) {
            res.shards().apply(k).tell(new RequestParams(-1, res.dataPlane().endpoint(), next.minVersion(),
                    ignoreParamsSent));
        }
    }

    /** The frames the evaluation waits on may have been refused before the shard's owner was known: ask again. */
    private Behavior<CoordinatorCommand> onShardOwnerKnown(ShardOwnerKnown k) {
        EvaluationSchedule.Due due = evaluations == null ? null : evaluations.inFlight();
        if (due != null && k.shard() >= 0 && k.shard() < layout.shardCount()) {
            res.shards().apply(k.shard()).tell(new RequestParams(-1, res.dataPlane().endpoint(), due.minVersion(),
                    ignoreParamsSent));
        }
        return this;
    }

    private Behavior<CoordinatorCommand> onEvalParams(EvalParamsReady r) {
        EvaluationSchedule.Due done = evaluations == null ? null : evaluations.done();
        if (done == null) {
            return this;
        }
        long step = done.step();
        if (sync() && evalAssembler.uniformVersion() == step && !recovery.rollingBack()) {
            // every shard at exactly this step: a consistent cut that a ps failover can roll back to
            recovery.takeCut(evalAssembler.parameters(), step);
            work.planner().closeBefore(step); // no rollback reaches below the cut: those epochs are final
        }
        double accuracy = evaluator.accuracy(evalAssembler.parameters());
        lastAccuracy = accuracy;
        if (evaluator.measuresLoss()) {
            getContext().getLog().info("step {}: validation loss {}", step, evaluator.lastLoss());
            res.listener().validationLoss(step, evaluator.lastLoss());
        }
        if (res.recorder() != null) {
            res.recorder().recordAccuracy(step, (System.nanoTime() - startNanos) / 1e9, accuracy);
        }
        res.metrics().runAccuracy.set(accuracy);
        int epoch = evaluations.epochOf(step);
        if (res.recorder() != null) {
            // A checkpoint and a hash-chained history entry per evaluation (fsynced; this dispatcher may block),
            // under sync only at a cut where every shard stands at this step (the recorder refuses any other)
            res.recorder().recordEvaluation(step, epoch, evalAssembler.parameters(),
                    sync() ? evalAssembler.versions() : null, roster.samplesByTrainer(), Double.isNaN(loss) ? 0 : loss,
                    accuracy);
        }
        if (step >= totalSteps) {
            for (Member m : roster.all()) {
                if (m.live) {
                    ledger.status(m.id, CreditLedger.Status.FINISHED);
                }
            }
        }
        keeper.publishCredits(step);
        res.listener().evaluated(epoch, step, accuracy);
        if (step >= totalSteps) {
            finish(accuracy);
            return this;
        }
        maybeEvaluate();
        return this;
    }

    private void finish(double accuracy) {
        finished = true;
        work.planner().closeBefore(totalSteps);
        WorkPlanner.Summary samplesAudit = work.planner().summary();
        getContext().getLog().info("samples audit over {} epoch(s): {} to train, {} trained once, {} lost, {} twice "
                + "({} work plans)", samplesAudit.epochs(), samplesAudit.expected(), samplesAudit.trained(),
                samplesAudit.missed(), samplesAudit.twice(), samplesAudit.plans());
        if (stored != null) {
            getContext().getLog().info("the run's state for a successor, stored by this incarnation over {} step(s): {}",
                    committedSteps - Math.max(0, storedStep), stored.summary());
        }
        long now = System.nanoTime();
        double seconds = (now - startNanos) / 1e9;
        double trainSeconds = ((trainedNanos == 0 ? now : trainedNanos) - startNanos) / 1e9;
        roster.tellAll(new Finish("the run reached its " + totalSteps + " steps"));
        res.listener().finished(new RunResult(accuracy, totalSteps, settings.epochs(), samples / seconds, seconds,
                maxStaleness, closedByDeadline, closedShort, checksums.compared(), checksums.mismatches(),
                audit.summary(), samplesAudit, trainSeconds, samples / trainSeconds));
    }

    /** The credit ledger (tests, and the run's end). */
    CreditLedger ledger() {
        return ledger;
    }

    // ---- RunView: what the parts may read and ask ------------------------------------------------------

    @Override
    public boolean started() {
        return started;
    }

    @Override
    public boolean finished() {
        return finished;
    }

    @Override
    public long committedSteps() {
        return committedSteps;
    }

    @Override
    public void fail(String why) {
        finished = true;
        res.listener().failed(why);
    }

    /** Every shard stands at the cut again: progress goes back there, the trainers rewind, a new plan from there. */
    @Override
    public void rolledBack(long cutStep) {
        committedSteps = cutStep;
        commits.clear();
        evaluations.rollback(cutStep);
        for (Member m : roster.all()) {
            if (m.live) {
                m.doneSteps = cutStep; // a gone trainer keeps its own: what it did not deliver is handed on
            }
        }
        checksums.forgetFrom(cutStep);
        sendQuorum();
        for (Member m : roster.all()) {
            if (m.live) {
                m.rewinding = true;
                m.ref.tell(new Rewind(cutStep, "a parameter-server node left; the shards went back to step " + cutStep));
            }
        }
        // the trainers get the new plan when they register again (after their rewind)
        work.planner().rollback(cutStep);
        work.replan("rollback to step " + cutStep, null);
    }
}
