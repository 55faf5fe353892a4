package io.tributary.coordinator;

import io.tributary.kernels.Backend;
import io.tributary.ps.node.NodeDataPlane;
import io.tributary.ps.node.ParameterAssembler;
import io.tributary.ps.node.TrainingMetrics;
import io.tributary.protocol.ProtocolRegistry;
import io.tributary.protocol.TrainingProtocol.Assignment;
import io.tributary.protocol.TrainingProtocol.ClockFloor;
import io.tributary.protocol.TrainingProtocol.CoordinatorCommand;
import io.tributary.protocol.TrainingProtocol.Finish;
import io.tributary.protocol.TrainingProtocol.ParamsSent;
import io.tributary.protocol.TrainingProtocol.RegisterTrainer;
import io.tributary.protocol.TrainingProtocol.Rejected;
import io.tributary.protocol.TrainingProtocol.RequestParams;
import io.tributary.protocol.TrainingProtocol.Rewind;
import io.tributary.protocol.TrainingProtocol.HandOverAck;
import io.tributary.protocol.TrainingProtocol.HandOverDone;
import io.tributary.protocol.TrainingProtocol.OptimizerSnapshot;
import io.tributary.protocol.TrainingProtocol.ResendGradient;
import io.tributary.protocol.TrainingProtocol.ShardReply;
import io.tributary.protocol.TrainingProtocol.ShardStarted;
import io.tributary.protocol.TrainingProtocol.ShardMoved;
import io.tributary.protocol.TrainingProtocol.ShardState;
import io.tributary.protocol.TrainingProtocol.StartShard;
import io.tributary.protocol.TrainingProtocol.ShardRestored;
import io.tributary.protocol.TrainingProtocol.SetQuorum;
import io.tributary.protocol.TrainingProtocol.ShardCommand;
import io.tributary.protocol.TrainingProtocol.ShardCommitted;
import io.tributary.protocol.TrainingProtocol.StepDone;
import io.tributary.protocol.TrainingProtocol.TrainerCommand;
import io.tributary.protocol.TrainingProtocol.LeaseExtended;
import io.tributary.protocol.WorkPlan;
import io.tributary.ps.aggregate.AggregationSettings;
import io.tributary.protocol.ShardLayout;
import io.tributary.ps.shard.ShardSettings;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.model.ModelSpec;
import io.tributary.coordinator.Roster.Member;
import io.tributary.protocol.ChunkedState;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The training coordinator, a cluster singleton on a {@code coordinator} node: it admits trainers
 * and says which samples each one trains at each step (work plans, {@link WorkPlanner}), tells the
 * parameter shards which trainers make up a step's
 * quorum (and changes it when a trainer goes away), follows the steps, evaluates the model on the
 * test set after each epoch and decides the end of the run.
 */
public final class TrainingCoordinator extends AbstractBehavior<CoordinatorCommand> {

    /** What the run shows its user; called on the coordinator's thread. */
    public interface Listener {
        void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch, String policy);

        void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers, double loss,
                      double lastAccuracy);

        void evaluated(int epoch, long step, double accuracy);

        void finished(RunResult result);

        /**
         * A new work plan from step {@code from} on: {@code batches} is each trainer's batch in that
         * step; {@code why} says what changed (a trainer gone or joined, speeds, a new epoch).
         */
        default void workPlanned(int plan, long from, String why, Map<Integer, Integer> batches) {
        }

        /** A trainer joined after the start ({@code replaced}: -1); its work plans come as {@link #workPlanned}. */
        default void trainerJoined(int trainer, int replaced, long step) {
        }

        /** The run goes on from the checkpoint of {@code step} ({@code tributary.cluster.resume-from}). */
        default void resumed(long step, long totalSteps) {
        }

        /** A ps node left: the shards go back from {@code step} to the checkpoint of {@code toStep}. */
        default void psFailover(String node, long step, long toStep) {
        }

        /**
         * Shard {@code shard} moved from incarnation {@code from} to {@code to} at {@code version} with its
         * state; {@code seconds} from the old owner's first piece of state to the new owner's answer.
         */
        default void shardMoved(int shard, String from, String to, long version, double seconds) {
        }

        /** The run cannot go on; {@code reason} says why and what to change. */
        default void failed(String reason) {
        }

        /** A trainer was quarantined (its contributions kept being rejected); {@code reason} says how. */
        default void trainerQuarantined(int trainer, String node, String reason) {
        }
    }

    /** The outcome of a run, with the consistency figures the tests check. */
    public record RunResult(double accuracy, long steps, int epochs, double samplesPerSecond, double seconds,
                            int maxStaleness, long stepsClosedByDeadline, long stepsClosedShort,
                            long checksumsCompared, long checksumMismatches, UpdateAudit.Summary updates,
                            WorkPlanner.Summary samplesAudit) {
    }

    /**
     * @param minTrainers how many trainers must register before the run starts
     * @param globalBatch samples per step over all trainers
     */
    public record Settings(long runId, int minTrainers, int globalBatch, int epochs, long seed, ShardSettings shards,
                           int evalEverySteps, double reputationRate, double quarantineBelow, long resumeStep,
                           WorkSettings work) {
    }

    /** The node-local things the coordinator uses (it is created on the node that hosts it). */
    public record Resources(NodeDataPlane dataPlane, Supplier<Backend> backend, ModelSpec spec,
                            Supplier<Dataset> testSet, int trainCount,
                            Function<Integer, EntityRef<ShardCommand>> shards, Listener listener,
                            TrainingMetrics metrics, RunRecorder recorder, Supplier<float[]> initialParameters) {
    }

    record TrainerTerminated(int trainerId) implements CoordinatorCommand {
    }

    record EvalParamsReady(long version) implements CoordinatorCommand {
    }

    /** A cluster member was removed (a ps node's removal starts a rollback). */
    record MemberGone(org.apache.pekko.cluster.Member member, org.apache.pekko.cluster.MemberStatus previousStatus)
            implements CoordinatorCommand {
    }

    /** Sends the rollback again to the shards that have not answered. */
    record RollbackTick(long rollbackId) implements CoordinatorCommand {
    }

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
    private final TreeMap<Long, Integer> commits = new TreeMap<>();
    /** Shards whose restart without state was already reported (one warning per incarnation). */
    private final Set<String> reportedStateless = new HashSet<>();
    /** Made at the start, when the number of trainers fixes the steps. */
    private WorkPlanner planner;
    private EvaluationSchedule evaluations;
    private long lastAdaptStep;
    private boolean started;
    private boolean finished;
    private long generation;
    private int partitionCount;
    private int localBatch;
    private int stepsPerEpoch;
    private long totalSteps;
    private long committedSteps;
    private long contributions;
    private long startNanos;
    private long samples;
    private double loss = Double.NaN;
    private double lastAccuracy = Double.NaN;
    private long lastFloor = -1;
    private int maxStaleness;
    private long closedByDeadline;
    private long closedShort;
    private long lastProgressNanos;

    public static Behavior<CoordinatorCommand> create(Settings settings, Resources resources) {
        return Behaviors.setup(ctx -> new TrainingCoordinator(ctx, settings, resources));
    }

    private TrainingCoordinator(ActorContext<CoordinatorCommand> ctx, Settings settings, Resources res) {
        super(ctx);
        this.settings = settings;
        this.res = res;
        this.layout = res.dataPlane().layout();
        this.roster = new Roster(settings.shards().maxTrainers());
        this.recovery = new Recovery(settings.runId(), layout);
        this.evaluator = new Evaluator(res.backend(), res.spec(), res.testSet());
        this.ledger = new CreditLedger(settings.reputationRate(), settings.quarantineBelow());
        this.audit = new UpdateAudit(settings.resumeStep());
        ActorRef<CoordinatorCommand> self = ctx.getSelf();
        this.evalAssembler = new ParameterAssembler(layout, v -> self.tell(new EvalParamsReady(v)));
        res.dataPlane().hostReplica(NodeDataPlane.COORDINATOR_REPLICA, evalAssembler);
        this.ignoreParamsSent = ctx.messageAdapter(ShardReply.class, p -> (CoordinatorCommand) p);
        this.checksums = new GradientChecksums(layout.shardCount(), (trainer, step, shard, sent, received) -> {
            res.metrics().checksumMismatches.inc();
            ctx.getLog().error("gradient of trainer {} step {} for shard {} arrived with CRC32 {} but was sent with {}",
                    trainer, step, shard, received, sent);
        });
        ActorRef<ClusterEvent.MemberRemoved> removed = ctx.messageAdapter(ClusterEvent.MemberRemoved.class,
                e -> new MemberGone(e.member(), e.previousStatus()));
        Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(removed, ClusterEvent.MemberRemoved.class));
        ctx.getLog().info("coordinator up: waiting for {} trainers ({} policy, {} shards)", settings.minTrainers(),
                settings.shards().policy().configName(), settings.shards().shards());
    }

    @Override
    public Receive<CoordinatorCommand> createReceive() {
        return newReceiveBuilder()
                .onMessage(RegisterTrainer.class, this::onRegister)
                .onMessage(StepDone.class, this::onStepDone)
                .onMessage(ShardCommitted.class, this::onShardCommitted)
                .onMessage(TrainerTerminated.class, this::onTrainerTerminated)
                .onMessage(EvalParamsReady.class, this::onEvalParams)
                .onMessage(ParamsSent.class, p -> this)
                .onMessage(ResendGradient.class, p -> this)
                .onMessage(ShardStarted.class, this::onShardStarted)
                .onMessage(ShardState.class, this::onShardState)
                .onMessage(HandOverDone.class, this::onHandOverDone)
                .onMessage(OptimizerSnapshot.class, o -> {
                    recovery.optimizerSnapshot(o);
                    return this;
                })
                .onMessage(MemberGone.class, this::onMemberGone)
                .onMessage(ShardRestored.class, this::onShardRestored)
                .onMessage(RollbackTick.class, t -> {
                    if (recovery.rollingBack() && t.rollbackId() == recovery.rollbackId()) {
                        getContext().getLog().warn("rollback {}: {} of {} shards restored; sending it again to the others",
                                recovery.rollbackId(), recovery.shardsRestored(), layout.shardCount());
                        sendRollback();
                    }
                    return this;
                })
                .onSignal(PostStop.class, s -> {
                    res.dataPlane().unhostReplica(NodeDataPlane.COORDINATOR_REPLICA, evalAssembler);
                    evaluator.close();
                    return this;
                })
                .build();
    }

    private boolean sync() {
        return settings.shards().policy() == ShardSettings.Policy.SYNC;
    }

    // ---- the roster: trainers register, restart, join mid-run, go, are quarantined -------------------

    private Behavior<CoordinatorCommand> onRegister(RegisterTrainer r) {
        if (r.protocolVersion() != ProtocolRegistry.PROTOCOL_VERSION) {
            r.trainer().tell(new Rejected("protocol version " + r.protocolVersion() + " differs from the coordinator's "
                    + ProtocolRegistry.PROTOCOL_VERSION + ": run the same Tributary release on every node"));
            return this;
        }
        Member known = roster.byNode(r.nodeId());
        if (known != null && known.quarantined) {
            r.trainer().tell(new Rejected("this node's trainer " + known.id + " was quarantined in run " + settings.runId()
                    + " (its contributions kept being rejected); it may not rejoin this run"));
            return this;
        }
        if (known != null) {
            // A restarted trainer (same node): same id, from where the run stands, with the plans from there.
            known.ref = r.trainer();
            known.rewinding = false;
            getContext().watchWith(r.trainer(), new TrainerTerminated(known.id));
            if (started) {
                long at = sync() ? committedSteps : known.doneSteps;
                known.ref.tell(assignment(known, at));
                if (!known.live) {
                    known.live = true;
                    sendQuorum();
                    replan("trainer " + known.id + " is back", known, known, at);
                }
                sendPlans(known, at);
            }
            return this;
        }
        String full = roster.refusal();
        if (full != null) {
            r.trainer().tell(new Rejected(full));
            return this;
        }
        if (started) {
            joinMidRun(r);
            return this;
        }
        Member m = roster.admit(r.nodeId(), r.trainer(), roster.size());
        ledger.admitted(m.id, m.nodeId);
        getContext().watchWith(r.trainer(), new TrainerTerminated(m.id));
        getContext().getLog().info("trainer {} registered from {} ({}), data plane {}", m.id, r.nodeId(), r.backend(),
                r.dataEndpoint());
        if (roster.size() >= settings.minTrainers()) {
            start();
        }
        return this;
    }

    /**
     * A trainer that registers after the start joins the quorum at the step the run stands at, gets
     * a share of the next work plan (from the lease on) and, for the steps before it, a bridge of its
     * own from the end of the epoch; where the epoch has too little left for one, its steps until
     * the next plan are empty.
     */
    private void joinMidRun(RegisterTrainer r) {
        Member m = roster.admit(r.nodeId(), r.trainer(), -1);
        m.doneSteps = committedSteps;
        ledger.admitted(m.id, m.nodeId);
        getContext().watchWith(r.trainer(), new TrainerTerminated(m.id));
        sendQuorum();
        m.ref.tell(assignment(m, committedSteps));
        replan("trainer " + m.id + " joined", m, m, committedSteps);
        WorkPlan bridge = planner.bridgeOf(m.id, committedSteps);
        getContext().getLog().warn("trainer {} joined mid-run from {} at step {}: {}", m.id, r.nodeId(), committedSteps,
                bridge != null ? "it computes on " + bridge.sliceSize(0, committedSteps) + " samples a step from then on"
                        : "it gets a batch from step " + planner.leasedUntil() + " on (the next work plan)");
        sendPlans(m, committedSteps);
        res.listener().trainerJoined(m.id, -1, committedSteps);
    }

    private Behavior<CoordinatorCommand> onTrainerTerminated(TrainerTerminated t) {
        Member m = roster.byId(t.trainerId());
        if (m == null || !m.live || finished) {
            return this;
        }
        m.live = false;
        ledger.status(m.id, CreditLedger.Status.GONE);
        getContext().getLog().warn("trainer {} ({}) is gone; {} trainers remain", m.id, m.nodeId, roster.liveCount());
        if (started) {
            sendQuorum();
            replan("trainer " + m.id + " gone", null);
        }
        return this;
    }

    /**
     * A trainer's reputation fell below {@code tributary.trust.quarantine-below}: it leaves the
     * quorum at once, is told why and stops, its undelivered samples go to the others (a new work plan),
     * and its node is downed (unless it is this node), which removes its data-plane key everywhere
     * so that its frames are dropped. The operator is told in the log, the listener and a metric.
     */
    private void quarantine(int id) {
        Member m = roster.byId(id);
        CreditLedger.Entry e = ledger.entry(id);
        if (m == null || e == null || m.quarantined) {
            return;
        }
        m.quarantined = true;
        ledger.status(id, CreditLedger.Status.QUARANTINED);
        String reason = String.format(Locale.ROOT, "reputation %.2f fell below %.2f: of its %d gradient "
                        + "slices %d were rejected (non-finite, over the norm bound, or leaning one way step after step) "
                        + "and %d lay far outside the others' "
                        + "(clipped or trimmed by the aggregation rule)", e.reputation(), ledger.quarantineBelow(),
                e.rejected() + e.accepted(), e.rejected(), e.outliers());
        getContext().getLog().error("trainer {} ({}) quarantined: {}. It leaves the quorum, its node is downed; check that"
                + " volunteer before it joins another run", id, m.nodeId, reason);
        res.metrics().trainersQuarantined.inc();
        res.listener().trainerQuarantined(id, m.nodeId, reason);
        if (m.live) {
            m.live = false;
            if (started) {
                sendQuorum();
            }
            m.ref.tell(new Rejected("quarantined by the coordinator: " + reason));
            if (started) {
                replan("trainer " + id + " quarantined", null);
            }
        }
        try {
            Address address = AddressFromURIString.parse(m.nodeId);
            Cluster cluster = Cluster.get(getContext().getSystem());
            if (address.equals(cluster.selfMember().address())) {
                getContext().getLog().warn("trainer {} runs on the coordinator's own node: it is stopped, the node stays", id);
            } else {
                cluster.manager().tell(new Down(address));
            }
        } catch (RuntimeException ex) {
            getContext().getLog().warn("trainer {}: its node id '{}' is not a cluster address ({}); the node is not downed",
                    id, m.nodeId, ex.getMessage());
        }
        publishCredits(committedSteps);
    }

    // ---- work plans and leases -----------------------------------------------------------------------

    /**
     * A new work plan from the lease on, for the live trainers: the gone ones' undelivered slices
     * are in it. Every live trainer but {@code except} (told with its assignment) gets it.
     */
    private void replan(String why, Member except) {
        replan(why, except, null, -1);
    }

    /**
     * {@link #replan(String, Member)}; a trainer {@code joiner} that joins at step {@code joinStep}
     * also gets a bridge for the steps already leased to the others (see {@link WorkPlanner#replan}),
     * so that it computes on samples from its first step.
     */
    private void replan(String why, Member except, Member joiner, long joinStep) {
        if (planner == null || finished) {
            return;
        }
        int[][] tw = roster.planMembers();
        if (tw[0].length == 0) {
            getContext().getLog().warn("no live trainer to plan the work for ({}): the run waits for one", why);
            return;
        }
        WorkPlan p = planner.replan(tw[0], tw[1], roster.gone(), joiner == null ? -1 : joiner.id, joinStep);
        WorkPlan bridge = planner.lastBridge();
        if (bridge != null) {
            int handedOn = planner.lastBridgeHandedOn();
            announcePlan(bridge, "trainer " + joiner.id + "'s first steps, until the next plan" + (handedOn == 0 ? ""
                    : "; shard 0 had committed its first " + handedOn + " step(s) already: their slices go to the plan"));
        }
        if (p != null) {
            broadcastPlan(p, why, except);
        }
        extendLease();
    }

    private void broadcastPlan(WorkPlan p, String why, Member except) {
        roster.tellListening(p, except);
        announcePlan(p, why);
    }

    private void announcePlan(WorkPlan p, String why) {
        Map<Integer, Integer> batches = new TreeMap<>();
        for (int i = 0; i < p.trainers().length; i++) {
            batches.put(p.trainers()[i], p.sliceSize(i, p.from()));
        }
        getContext().getLog().info("work plan {} from step {} ({}): {} samples left in epoch {}, batches by trainer {}",
                p.id(), p.from(), why, p.length() - p.windowStart(p.from()), p.epoch(), batches);
        res.listener().workPlanned(p.id(), p.from(), why, batches);
    }

    /** Lets the trainers compute further as the run progresses (with the next epoch's plan when due). */
    private void extendLease() {
        if (planner == null || finished || recovery.rollingBack()) {
            return;
        }
        long progress = sync() ? committedSteps : Math.max(lastFloor, 0) + settings.shards().staleness() + 1;
        int[][] tw = roster.planMembers();
        if (tw[0].length == 0) {
            return;
        }
        WorkPlanner.Extension x = planner.extend(progress, tw[0], tw[1]);
        if (x == null) {
            return;
        }
        for (WorkPlan p : x.plans()) {
            broadcastPlan(p, "epoch " + p.epoch(), null);
        }
        roster.tellListening(new LeaseExtended(settings.runId(), x.until()), null);
    }

    /** What a trainer starting at {@code from} needs of the work plans (its bridge first), and the lease. */
    private void sendPlans(Member m, long from) {
        for (WorkPlan p : planner.plansFor(m.id, from)) {
            m.ref.tell(p);
        }
        m.ref.tell(new LeaseExtended(settings.runId(), planner.leasedUntil()));
    }

    /**
     * Adaptive batches ({@link AdaptiveBatches}): every {@code adaptive-every-steps} steps the
     * trainers' weights follow their measured speeds; a new plan when one moved by more than a fifth.
     */
    private void maybeAdapt() {
        WorkSettings w = settings.work();
        if (!w.adaptive() || planner == null || recovery.rollingBack()
                || committedSteps - lastAdaptStep < w.adaptiveEverySteps()) {
            return;
        }
        lastAdaptStep = committedSteps;
        List<Member> members = roster.active();
        int[] weights = new int[members.size()];
        double[] times = new double[members.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = members.get(i).weight;
            times[i] = members.get(i).stepNanos;
        }
        int[] next = AdaptiveBatches.reweigh(weights, times, w.adaptiveMinShare());
        if (next == null) {
            return;
        }
        StringBuilder shown = new StringBuilder();
        for (int i = 0; i < next.length; i++) {
            Member m = members.get(i);
            shown.append(i == 0 ? "" : ", ").append(m.id).append(": ")
                    .append(String.format(Locale.ROOT, "%.1f ms", m.stepNanos / 1e6));
            m.weight = next[i];
        }
        replan("batches sized by speed (compute per step: " + shown + ")", null);
    }

    // ---- the run: start, steps, commits, evaluations, the end -----------------------------------------

    private void start() {
        started = true;
        partitionCount = roster.size();
        localBatch = Math.max(1, settings.globalBatch() / partitionCount);
        int smallestPartition = res.trainCount() / partitionCount;
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
        lastFloor = first > 0 ? first - 1 : -1;
        recovery.start(res.initialParameters().get(), first);
        sendQuorum();
        int[][] tw = roster.planMembers();
        planner = new WorkPlanner(settings.runId(), stepsPerEpoch, localBatch * partitionCount, totalSteps,
                settings.work().leaseSteps(), settings.shards().trust().rule() == AggregationSettings.Rule.MEAN);
        WorkPlan firstPlan = planner.start(first, tw[0], tw[1]);
        lastAdaptStep = first;
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
        announcePlan(firstPlan, "the start");
        getContext().getLog().info("run {} started: {} trainers, batch {} each, {} steps per epoch, {} steps",
                settings.runId(), partitionCount, localBatch, stepsPerEpoch, totalSteps);
    }

    private Assignment assignment(Member m, long startStep) {
        Set<Integer> shards = new HashSet<>();
        for (int k = 0; k < layout.shardCount(); k++) {
            shards.add(k);
        }
        return new Assignment(settings.runId(), m.id, m.partition, partitionCount, startStep, totalSteps, stepsPerEpoch,
                localBatch, settings.shards().policy().configName(), settings.shards().staleness(), shards);
    }

    private void sendQuorum() {
        generation++;
        SetQuorum q = quorum();
        for (int k = 0; k < layout.shardCount(); k++) {
            res.shards().apply(k).tell(q);
        }
    }

    /** The current quorum generation (also what a shard that moved starts with). */
    private SetQuorum quorum() {
        return new SetQuorum(settings.runId(), generation, roster.quorum(), settings.shards().backup(),
                getContext().getSelf());
    }

    private Behavior<CoordinatorCommand> onStepDone(StepDone d) {
        Member m = roster.byId(d.trainerId());
        if (m == null || finished || m.rewinding || recovery.rollingBack()) {
            return this;
        }
        m.doneSteps = Math.max(m.doneSteps, d.step() + 1);
        m.samples += d.samples();
        if (d.samples() > 0 && d.computeNanos() > 0) {
            m.measured(d.computeNanos());
        }
        ledger.stepDone(d.trainerId(), d.samples(), d.computeNanos());
        checksums.sent(d.trainerId(), d.step(), d.checksums());
        samples += d.samples();
        contributions++;
        loss = Double.isNaN(loss) ? d.loss() : 0.98 * loss + 0.02 * d.loss();
        if (settings.shards().policy() == ShardSettings.Policy.BOUNDED_STALENESS) {
            long floor = roster.slowestDone();
            // How far ahead of the slowest this step ran, by the floor the trainer itself went by;
            // that floor can never be ahead of the real one (the coordinator is its only source).
            long seen = Math.min(d.slowestSeen(), Math.max(lastFloor, 0));
            maxStaleness = (int) Math.max(maxStaleness, d.step() - seen);
            if (floor != Long.MAX_VALUE && floor > lastFloor) {
                long previous = lastFloor;
                lastFloor = floor;
                roster.tellLive(new ClockFloor(floor));
                for (long s = Math.max(previous, 0) + 1; s <= floor; s++) {
                    if (evaluations.evaluatesAt(s)) {
                        evaluations.add(s, 0);
                    }
                }
                committedSteps = floor;
                maybeEvaluate();
                extendLease();
                maybeAdapt();
            }
        }
        showProgress();
        return this;
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
        if (recovery.rollingBack()) {
            return this; // commits from before the rollback reached us late: void
        }
        for (Map.Entry<Integer, Long> e : c.checksums().entrySet()) {
            checksums.received(e.getKey(), c.step(), c.shard(), e.getValue());
        }
        if (planner != null && c.shard() == 0 && !finished) {
            for (int t : c.checksums().keySet()) {
                planner.served(t, c.step());
            }
            if (sync() // bounded staleness: one commit per gradient
                    && planner.committed(c.step(), c.checksums().keySet())) {
                replan("a joiner's samples of step " + c.step() + " were committed without its gradient", null);
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
                quarantine(fallen);
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
            extendLease();
            maybeAdapt();
            long s = c.step() + 1;
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

    private Behavior<CoordinatorCommand> onEvalParams(EvalParamsReady r) {
        EvaluationSchedule.Due done = evaluations == null ? null : evaluations.done();
        if (done == null) {
            return this;
        }
        long step = done.step();
        if (sync() && evalAssembler.uniformVersion() == step && !recovery.rollingBack()) {
            // every shard at exactly this step: a consistent cut that a ps failover can roll back to
            recovery.takeCut(evalAssembler.parameters(), step);
            planner.closeBefore(step); // no rollback reaches below the cut: those epochs are final
        }
        double accuracy = evaluator.accuracy(evalAssembler.parameters());
        lastAccuracy = accuracy;
        res.metrics().runAccuracy.set(accuracy);
        int epoch = evaluations.epochOf(step);
        if (res.recorder() != null) {
            // A checkpoint and a hash-chained history entry per evaluation (fsynced; this dispatcher may block).
            res.recorder().recordEvaluation(step, epoch, evalAssembler.parameters(), roster.samplesByTrainer(),
                    Double.isNaN(loss) ? 0 : loss, accuracy);
        }
        if (step >= totalSteps) {
            for (Member m : roster.all()) {
                if (m.live) {
                    ledger.status(m.id, CreditLedger.Status.FINISHED);
                }
            }
        }
        publishCredits(step);
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
        planner.closeBefore(totalSteps);
        WorkPlanner.Summary samplesAudit = planner.summary();
        getContext().getLog().info("samples audit over {} epoch(s): {} to train, {} trained once, {} lost, {} twice "
                + "({} work plans)", samplesAudit.epochs(), samplesAudit.expected(), samplesAudit.trained(),
                samplesAudit.missed(), samplesAudit.twice(), samplesAudit.plans());
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        roster.tellAll(new Finish("the run reached its " + totalSteps + " steps"));
        res.listener().finished(new RunResult(accuracy, totalSteps, settings.epochs(), samples / seconds, seconds,
                maxStaleness, closedByDeadline, closedShort, checksums.compared(), checksums.mismatches(),
                audit.summary(), samplesAudit));
    }

    /** The ledger to the metrics and, when the run is recorded, to {@code credits.json}. */
    private void publishCredits(long step) {
        for (CreditLedger.Entry e : ledger.entries()) {
            String t = Integer.toString(e.trainer());
            res.metrics().creditSamples.labelValues(t).set(e.samples());
            res.metrics().creditSlices.labelValues(t, "accepted").set(e.accepted());
            res.metrics().creditSlices.labelValues(t, "rejected").set(e.rejected());
            res.metrics().creditSlices.labelValues(t, "outlier").set(e.outliers());
            res.metrics().creditComputeSeconds.labelValues(t).set(e.computeSeconds());
            res.metrics().creditReputation.labelValues(t).set(e.reputation());
        }
        if (res.recorder() != null) {
            res.recorder().writeCredits(ledger.toJson(settings.runId(), step));
        }
    }

    /** The credit ledger (tests, and the run's end). */
    CreditLedger ledger() {
        return ledger;
    }

    // ---- recovery: ps failover by rollback, shards moving with their state ----------------------------

    /**
     * A ps node left the cluster: its shards start again on another ps node with nothing in them.
     * Every shard is rolled back to the last consistent cut (the parameters of the last evaluation
     * at which all shards stood at the same version, or the start), the trainers rewind to that
     * step, and the run goes on: the steps since the cut are lost and done again, no update is
     * applied twice (the update audit counts them as rolled back). Sync policy only.
     */
    private Behavior<CoordinatorCommand> onMemberGone(MemberGone g) {
        if (!g.member().getRoles().contains("ps") || !started || finished || !recovery.hasCut()) {
            return this;
        }
        if (g.previousStatus() == MemberStatus.exiting()) {
            // A graceful leave: sharding handed its shards off first, each with its state (ShardState).
            getContext().getLog().warn("parameter-server node {} left gracefully; its shards moved with their state "
                    + "({} hand-over(s) not taken up yet)", g.member().address(), recovery.handOversPending());
            return this;
        }
        if (!sync()) {
            String why = "parameter-server node " + g.member().address() + " left and its shards' state went with it; "
                    + "failover by rollback needs tributary.consistency.policy = sync";
            getContext().getLog().error("{}", why);
            finished = true;
            res.listener().failed(why);
            return this;
        }
        long id = recovery.beginRollback(committedSteps);
        long cutStep = recovery.cutStep();
        getContext().getLog().warn("parameter-server node {} left: rolling every shard back to step {} (the run stood at "
                + "{}; {} steps are done again), rollback {}; {}", g.member().address(), cutStep, committedSteps,
                committedSteps - cutStep, id, recovery.optimizerAtCut() != null
                        ? "with the optimizer state of that step" : "the optimizer state starts from zero (none was kept "
                        + "for step " + cutStep + ")");
        res.listener().psFailover(g.member().address().toString(), committedSteps, cutStep);
        sendRollback();
        return this;
    }

    /** The rollback to every shard not restored yet, then a check in 5 s. */
    private void sendRollback() {
        for (int k = 0; k < layout.shardCount(); k++) {
            if (!recovery.restored(k)) {
                EntityRef<ShardCommand> shard = res.shards().apply(k);
                for (ShardCommand message : recovery.rollbackMessages(k, getContext().getSelf())) {
                    shard.tell(message);
                }
            }
        }
        getContext().scheduleOnce(Duration.ofSeconds(5), getContext().getSelf(), new RollbackTick(recovery.rollbackId()));
    }

    private Behavior<CoordinatorCommand> onShardRestored(ShardRestored r) {
        Recovery.Restored outcome = recovery.shardRestored(r.shard(), r.rollbackId());
        if (outcome == Recovery.Restored.IGNORED) {
            return this;
        }
        audit.rolledBack(r.shard(), r.version());
        if (outcome == Recovery.Restored.COUNTED) {
            return this;
        }
        long cutStep = recovery.cutStep();
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
        getContext().getLog().warn("rollback {} done in {} s: every shard at step {}; {} steps lost and done again; "
                + "trainers rewind", recovery.rollbackId(), String.format(Locale.ROOT, "%.1f", recovery.rollbackSeconds()),
                cutStep, recovery.rollbackFrom() - cutStep);
        for (Member m : roster.all()) {
            if (m.live) {
                m.rewinding = true;
                m.ref.tell(new Rewind(cutStep, "a parameter-server node left; the shards went back to step " + cutStep));
            }
        }
        // the trainers get the new plan when they register again (after their rewind)
        planner.rollback(cutStep);
        replan("rollback to step " + cutStep, null);
        return this;
    }

    /**
     * A shard incarnation waits for word. It gets the state its previous owner handed over if there is
     * one; nothing during a rollback (the rollback restores it); nothing if the shard has committed
     * before and no state was handed over (its node died: the rollback on the node's removal restores
     * it); otherwise it starts from its initial state.
     */
    private Behavior<CoordinatorCommand> onShardStarted(ShardStarted s) {
        if (s.runId() != settings.runId() || s.shard() < 0 || s.shard() >= layout.shardCount()) {
            getContext().getLog().error("shard {} of run {} ({}) announced itself to run {} with {} shards: start every node"
                    + " with the same tributary.cluster.run-id and shards", s.shard(), s.runId(), s.owner(),
                    settings.runId(), layout.shardCount());
            return this;
        }
        Recovery.HandOver h = recovery.handOver(s.shard());
        if (h != null) {
            if (h.state.complete()) {
                sendHandOver(s.shard(), h, s.shardRef());
            }
            return this;
        }
        if (recovery.rollingBack()) {
            return this;
        }
        if (audit.owned(s.shard())) {
            if (reportedStateless.add(s.owner())) {
                getContext().getLog().warn("shard {} started again on {} without its state (its node left?): it waits "
                        + "for the rollback that the node's removal starts", s.shard(), s.owner());
            }
            return this;
        }
        s.shardRef().tell(new StartShard(settings.runId(), s.shard()));
        return this;
    }

    /** A piece of a moving shard's state from its old owner: kept, and acknowledged once all is here. */
    private Behavior<CoordinatorCommand> onShardState(ShardState s) {
        int k = s.shard();
        if (s.runId() != settings.runId() || k < 0 || k >= layout.shardCount()) {
            return this;
        }
        int length = layout.length(k);
        if (s.parts() < 1 || s.part() < 0 || s.part() >= s.parts() || s.offset() < 0
                || s.offset() % ChunkedState.CHUNK_FLOATS != 0 || s.offset() > length - s.values().length) {
            getContext().getLog().error("shard {}: a piece of handed-over state from {} (part {} of {}, [{}, +{})) does "
                    + "not fit its {} parameters; ignored", k, s.owner(), s.part(), s.parts(), s.offset(),
                    s.values().length, length);
            return this;
        }
        Recovery.HandOver before = recovery.handOver(k);
        Recovery.HandOver h = recovery.handOverOf(s);
        if (h != before) {
            if (finished) {
                // the run is over and its ps nodes stop: sharding hands their shards off on the way out
                getContext().getLog().debug("shard {} hands its state over while its node stops", k);
            } else {
                getContext().getLog().warn("shard {} is moving to another ps node: receiving the state of version {} from {}",
                        k, s.version(), s.owner());
            }
        }
        if (s.parts() == h.state.partCount()) {
            h.state.accept(s.part(), s.offset(), s.values());
        }
        if (h.state.complete()) {
            s.from().tell(new HandOverAck(k, h.owner)); // again for every piece sent again
        }
        return this;
    }

    private void sendHandOver(int k, Recovery.HandOver h, ActorRef<ShardCommand> to) {
        if (started) {
            to.tell(quorum()); // the quorum changes it missed while it moved
        }
        for (ShardState piece : recovery.handOverMessages(k, h, to)) {
            to.tell(piece);
        }
    }

    private Behavior<CoordinatorCommand> onHandOverDone(HandOverDone d) {
        Recovery.HandOver h = recovery.handOverDone(d.shard(), d.previousOwner());
        if (h == null) {
            return this;
        }
        double seconds = (System.nanoTime() - h.startNanos) / 1e9;
        getContext().getLog().warn("shard {} moved from {} to {} at version {} with its optimizer state ({} steps) in {} s",
                d.shard(), h.owner, d.owner(), d.version(), h.optimizerSteps, String.format(Locale.ROOT, "%.2f", seconds));
        res.listener().shardMoved(d.shard(), h.owner, d.owner(), d.version(), seconds);
        for (Member m : roster.all()) {
            if (m.live && !m.rewinding) {
                m.ref.tell(new ShardMoved(d.shard(), d.version()));
            }
        }
        return this;
    }
}
