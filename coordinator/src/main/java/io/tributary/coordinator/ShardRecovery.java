package io.tributary.coordinator;

import io.tributary.coordinator.Roster.Member;
import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.ShardProtocol.HandOverAck;
import io.tributary.protocol.CoordinatorProtocol.HandOverDone;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.TrainerProtocol.ShardMoved;
import io.tributary.protocol.CoordinatorProtocol.ShardRestored;
import io.tributary.protocol.CoordinatorProtocol.ShardStarted;
import io.tributary.protocol.StateKind;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.ShardProtocol.StartShard;
import io.tributary.ps.shard.ShardSettings;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The coordinator's side of shards that lose or change their node: a new shard incarnation is told
 * how to start, a moving shard's state is relayed from its old owner to its new one, and a ps node's
 * death rolls every shard back to the last consistent cut ({@link Recovery} keeps the state and the
 * rollback's progress; this class does the messaging).
 */
final class ShardRecovery {

    /** Sends the rollback again to the shards that have not answered. */
    record RollbackTick(long rollbackId) implements CoordinatorCommand {
    }

    /** Ask the replica stores again for the lost shards, or give up and roll back. */
    record PromotionTick(long promotion) implements CoordinatorCommand {
    }

    /** Wakes the promoted shards whose next incarnation has not announced itself yet. */
    record WakeTick() implements CoordinatorCommand {
    }

    /** The ps nodes' replica stores (from the receptionist). */
    record ReplicaStores(java.util.Set<org.apache.pekko.actor.typed.ActorRef<ShardCommand>> stores)
            implements CoordinatorCommand {
    }

    /** How long a promotion may take before the coordinator rolls back instead. */
    static final Duration PROMOTION_TIMEOUT = Duration.ofSeconds(12);
    private static final Duration PROMOTION_ASK_EVERY = Duration.ofSeconds(3);
    /**
     * How often a promoted shard is sent its wake-up again until its next incarnation announces itself: a
     * message sent while sharding still waits out the dead node's removal margin may be routed to the dead
     * node and lost (its coordinator answers with the old home until the margin ends).
     */
    private static final Duration WAKE_EVERY = Duration.ofMillis(500);
    /** After this long without a new incarnation the coordinator stops waking it (a trainer's request still will). */
    private static final Duration WAKE_FOR = Duration.ofSeconds(60);

    /** A cluster member was removed (a ps node's removal starts a rollback). */
    record MemberGone(org.apache.pekko.cluster.Member member, MemberStatus previousStatus) implements CoordinatorCommand {
    }

    private final ActorContext<CoordinatorCommand> ctx;
    private final TrainingCoordinator.Settings settings;
    private final ShardLayout layout;
    private final Recovery recovery;
    private final UpdateAudit audit;
    private final Roster roster;
    private final Function<Integer, EntityRef<ShardCommand>> shards;
    private final RunListener listener;
    private final RunView run;
    /** Shards whose restart without state was already reported (one warning per incarnation). */
    private final Set<String> reportedStateless = new HashSet<>();
    private Set<org.apache.pekko.actor.typed.ActorRef<ShardCommand>> replicaStores = Set.of();
    /** Shards being promoted from a replica, each with the dead owner whose state it takes. */
    private final java.util.Map<Integer, String> promoting = new java.util.HashMap<>();
    private long promotionId;
    private String promotionPrefix;
    private String promotionNode;
    private long promotionStartNanos;
    private long promotionAtStep;
    /**
     * The incarnation each shard was last handed to (a hand-over or a promotion), until it commits: a
     * shard that moved onto a node that dies before its first commit there is that node's, not its
     * previous owner's.
     */
    private final java.util.Map<Integer, String[]> handedTo = new java.util.HashMap<>();
    /** The latest announcement of each shard's incarnation (to give a promoted state at once). */
    private final java.util.Map<Integer, ShardStarted> announced = new java.util.HashMap<>();
    /** Promoted shards still to start again: the dead owner (an incarnation of another owner ends it), since when. */
    private record Waking(String owner, long sinceNanos) {
    }

    private final java.util.Map<Integer, Waking> waking = new java.util.HashMap<>();
    private boolean wakeTickPending;

    ShardRecovery(ActorContext<CoordinatorCommand> ctx, TrainingCoordinator.Settings settings, ShardLayout layout,
                  Recovery recovery, UpdateAudit audit, Roster roster,
                  Function<Integer, EntityRef<ShardCommand>> shards, RunListener listener, RunView run) {
        this.ctx = ctx;
        this.settings = settings;
        this.layout = layout;
        this.recovery = recovery;
        this.audit = audit;
        this.roster = roster;
        this.shards = shards;
        this.listener = listener;
        this.run = run;
    }

    /**
     * A ps node left the cluster: its shards start again on another ps node with nothing in them.
     * Every shard is rolled back to the last consistent cut (the parameters of the last evaluation
     * at which all shards stood at the same version, or the start), the trainers rewind to that
     * step, and the run goes on: the steps since the cut are lost and done again, no update is
     * applied twice (the update audit counts them as rolled back). Sync policy only.
     */
    void onMemberGone(MemberGone g) {
        if (!g.member().getRoles().contains("ps") || !run.started() || run.finished()) {
            return;
        }
        if (g.previousStatus() == MemberStatus.exiting()) {
            // A graceful leave: sharding handed its shards off first, each with its state (StateChunks).
            ctx.getLog().warn("parameter-server node {} left gracefully; its shards moved with their state "
                    + "({} hand-over(s) not taken up yet)", g.member().address(), recovery.handOversPending());
            return;
        }
        if (!settings.shards().policy().synchronous()) {
            String why = "parameter-server node " + g.member().address() + " left and its shards' state went with it; "
                    + "failover by rollback needs tributary.consistency.policy = sync";
            ctx.getLog().error("{}", why);
            run.fail(why);
            return;
        }
        if (settings.shards().replicated() && promoting.isEmpty() && !recovery.rollingBack()
                && beginPromotion(g.member())) {
            return;
        }
        if (!promoting.isEmpty()) {
            ctx.getLog().warn("parameter-server node {} left while shards {} were being promoted from replicas: rolling "
                    + "back instead", g.member().address(), promoting.keySet());
            promoting.clear();
        }
        rollBackOrFail(g.member().address().toString());
    }

    /**
     * Every shard back to the last consistent cut after the loss of ps node {@code node}; a coordinator that took
     * the run over after its last evaluation has none, and the run fails saying what to do.
     */
    private void rollBackOrFail(String node) {
        if (!recovery.hasCut()) {
            String why = "parameter-server node " + node + " left and its shards cannot be promoted from replicas, and this coordinator took the"
                    + " run over after its last evaluation: it holds no consistent cut to roll back to (the next"
                    + " evaluation makes one). Resume the run from its last checkpoint (tributary.cluster.resume-from),"
                    + " and keep tributary.cluster.replicas >= 2 with two or more ps nodes";
            ctx.getLog().error("{}", why);
            run.fail(why);
            return;
        }
        rollBack(node);
    }

    /**
     * The dead node's shards (those whose last commit it applied) are taken from their replicas on the
     * other ps nodes: every replica store is asked for them ({@link PromoteReplicas}) and sends each as
     * the dead owner's hand-over, which the shard's next incarnation takes like any hand-over. Returns
     * false when nothing can be promoted (no store, or the node's data-plane endpoint is unknown).
     */
    private boolean beginPromotion(org.apache.pekko.cluster.Member member) {
        return beginPromotion(endpointOf(member), member.address().toString());
    }

    /** The data-plane endpoint a member announced in its roles ({@code dp|host:port|...}), or null. */
    private static String endpointOf(org.apache.pekko.cluster.Member member) {
        String endpoint = null;
        for (String role : member.getRoles()) {
            if (role.startsWith("dp|")) {
                String[] fields = role.split("\\|");
                endpoint = fields.length > 1 ? fields[1] : null;
            }
        }
        return endpoint;
    }

    /**
     * A coordinator that took the run over: a ps node removed while no coordinator ran (the two died
     * close together) had no {@link MemberGone} here. Its shards, found by their last owner's endpoint
     * among the members there are now, are promoted from replicas (or rolled back) as on its removal.
     */
    void ownersGoneWhileAway(java.util.Collection<org.apache.pekko.cluster.Member> members) {
        if (!run.started() || run.finished() || !settings.shards().policy().synchronous()) {
            return;
        }
        Set<String> present = new java.util.HashSet<>();
        for (org.apache.pekko.cluster.Member m : members) {
            String e = endpointOf(m);
            if (e != null) {
                present.add(e);
            }
        }
        java.util.TreeSet<String> gone = new java.util.TreeSet<>();
        for (int k = 0; k < layout.shardCount(); k++) {
            String owner = audit.owner(k);
            int slash = owner == null ? -1 : owner.indexOf('/');
            if (slash > 0 && !present.contains(owner.substring(0, slash))) {
                gone.add(owner.substring(0, slash));
            }
        }
        if (gone.isEmpty()) {
            return;
        }
        ctx.getLog().warn("the ps node(s) at {} left while no coordinator ran: their shards are taken over now", gone);
        if (gone.size() == 1 && settings.shards().replicated()
                && beginPromotion(gone.first(), "the ps node at " + gone.first())) {
            return;
        }
        rollBackOrFail(gone + " (while no coordinator ran)");
    }

    private boolean beginPromotion(String endpoint, String node) {
        if (endpoint == null || replicaStores.isEmpty()) {
            ctx.getLog().warn("parameter-server node {} left; no replica to promote ({}): rolling back",
                    node, endpoint == null ? "its data-plane endpoint is unknown" : "no replica store known");
            return false;
        }
        String prefix = endpoint + "/";
        for (int k = 0; k < layout.shardCount(); k++) {
            // {previous owner, next owner}: the next one holds the shard while no commit came since
            String[] moved = handedTo.get(k);
            String owner = moved != null && java.util.Objects.equals(moved[0], audit.owner(k)) ? moved[1] : audit.owner(k);
            if (owner != null && owner.startsWith(prefix)) {
                promoting.put(k, owner);
            }
        }
        if (promoting.isEmpty()) {
            ctx.getLog().warn("parameter-server node {} left; none of the shards' last updates was its: nothing to "
                    + "promote or roll back", node);
            return true;
        }
        promotionId++;
        promotionPrefix = prefix;
        promotionNode = node;
        promotionStartNanos = System.nanoTime();
        promotionAtStep = run.committedSteps();
        ctx.getLog().warn("parameter-server node {} left at step {}: promoting the replicas of shards {} (no rollback)",
                node, promotionAtStep, promoting.keySet());
        askReplicas();
        return true;
    }

    private void askReplicas() {
        for (org.apache.pekko.actor.typed.ActorRef<ShardCommand> store : replicaStores) {
            store.tell(new io.tributary.protocol.ShardProtocol.PromoteReplicas(settings.runId(), promotionPrefix,
                    promoting.keySet(), ctx.getSelf()));
        }
        ctx.scheduleOnce(PROMOTION_ASK_EVERY, ctx.getSelf(), new PromotionTick(promotionId));
    }

    void onPromotionTick(PromotionTick t) {
        if (t.promotion() != promotionId || promoting.isEmpty()) {
            return;
        }
        if (System.nanoTime() - promotionStartNanos < PROMOTION_TIMEOUT.toNanos()) {
            ctx.getLog().warn("promotion {}: shards {} still wait for a replica at their last version; asking again",
                    promotionId, promoting.keySet());
            askReplicas();
            return;
        }
        ctx.getLog().error("promotion {}: no replica of shards {} at their last announced version came within {} s: "
                + "rolling every shard back instead", promotionId, promoting.keySet(), PROMOTION_TIMEOUT.toSeconds());
        promoting.clear();
        rollBack(promotionNode);
    }

    void onReplicaStores(ReplicaStores r) {
        replicaStores = Set.copyOf(r.stores());
    }

    /**
     * The commit a promoted replica holds: true when the coordinator should take it as that shard's
     * commit (the dead owner applied it and its replicas held it, but it died before it could say so).
     */
    boolean takesReplicaCommit(io.tributary.protocol.ShardProtocol.ReplicaCommit r) {
        io.tributary.protocol.CoordinatorProtocol.ShardCommitted c = r.commit();
        String owner = promoting.get(c.shard());
        boolean take = r.runId() == settings.runId() && owner != null && owner.equals(c.owner())
                && audit.lastVersion(c.shard()) == c.version() - 1;
        if (take) {
            ctx.getLog().warn("shard {}: its owner {} died after its replica held version {} but before it said so: the"
                    + " replica's copy of the commit stands for it", c.shard(), c.owner(), c.version());
        }
        return take;
    }

    /** A promoted replica's state is here, whole: it is the shard's unless it is behind what the owner announced. */
    private void promotedStateArrived(int k, Recovery.HandOver h) {
        long announcedVersion = audit.lastVersion(k);
        if (h.version != announcedVersion) {
            ctx.getLog().error("shard {}: the replica offered version {} but its owner announced {}: not used", k,
                    h.version, announcedVersion);
            recovery.dropHandOver(k);
            return;
        }
        promoting.remove(k);
        ctx.getLog().warn("shard {}: replica of {} promoted at version {} ({} optimizer steps) {} s after the node's "
                + "removal", k, h.owner, h.version, h.optimizerSteps, String.format(Locale.ROOT, "%.2f",
                (System.nanoTime() - promotionStartNanos) / 1e9));
        if (promoting.isEmpty()) {
            listener.replicasPromoted(promotionNode, promotionAtStep, (System.nanoTime() - promotionStartNanos) / 1e9);
        }
        ShardStarted next = announced.get(k);
        if (next != null && !next.owner().equals(h.owner)) {
            onShardStarted(next); // the next incarnation already waits: give it the state now
        } else if (run.started()) {
            // sharding starts the next incarnation on the first message for the shard after the dead node's
            // removal margin: send it one now (the quorum, which a new incarnation takes) rather than wait for
            // a trainer's next request, and again until it announces itself
            waking.put(k, new Waking(h.owner, System.nanoTime()));
            if (!wakeTickPending) {
                wakeTickPending = true;
                ctx.scheduleOnce(WAKE_EVERY, ctx.getSelf(), new WakeTick());
            }
            shards.apply(k).tell(run.quorum());
        }
    }

    void onWakeTick(WakeTick t) {
        wakeTickPending = false;
        long now = System.nanoTime();
        waking.entrySet().removeIf(e -> {
            ShardStarted a = announced.get(e.getKey());
            if (a != null && !a.owner().equals(e.getValue().owner())) {
                return true;
            }
            if (now - e.getValue().sinceNanos() > WAKE_FOR.toNanos()) {
                ctx.getLog().warn("shard {} was promoted {} s ago and has not started again on a ps node; the next"
                        + " message for it (a trainer's request) starts it", e.getKey(), WAKE_FOR.toSeconds());
                return true;
            }
            return false;
        });
        if (waking.isEmpty()) {
            return;
        }
        for (int k : waking.keySet()) {
            shards.apply(k).tell(run.quorum());
        }
        wakeTickPending = true;
        ctx.scheduleOnce(WAKE_EVERY, ctx.getSelf(), new WakeTick());
    }

    /** Every shard back to the last consistent cut, the trainers rewind to it (a ps node's death without replicas). */
    private void rollBack(String node) {
        long committed = run.committedSteps();
        long id = recovery.beginRollback(committed);
        long cutStep = recovery.cutStep();
        ctx.getLog().warn("parameter-server node {} left: rolling every shard back to step {} (the run stood at "
                + "{}; {} steps are done again), rollback {}; {}", node, cutStep, committed,
                committed - cutStep, id, recovery.optimizerAtCut() != null
                        ? "with the optimizer state of that step" : "the optimizer state starts from zero (none was kept "
                        + "for step " + cutStep + ")");
        listener.psFailover(node, committed, cutStep);
        sendRollback();
    }

    void onRollbackTick(RollbackTick t) {
        if (recovery.rollingBack() && t.rollbackId() == recovery.rollbackId()) {
            ctx.getLog().warn("rollback {}: {} of {} shards restored; sending it again to the others",
                    recovery.rollbackId(), recovery.shardsRestored(), layout.shardCount());
            sendRollback();
        }
    }

    /** The rollback to every shard not restored yet, then a check in 5 s. */
    private void sendRollback() {
        for (int k = 0; k < layout.shardCount(); k++) {
            if (!recovery.restored(k)) {
                EntityRef<ShardCommand> shard = shards.apply(k);
                for (ShardCommand message : recovery.rollbackMessages(k, ctx.getSelf())) {
                    shard.tell(message);
                }
            }
        }
        ctx.scheduleOnce(Duration.ofSeconds(5), ctx.getSelf(), new RollbackTick(recovery.rollbackId()));
    }

    void onShardRestored(ShardRestored r) {
        Recovery.Restored outcome = recovery.shardRestored(r.shard(), r.rollbackId());
        if (outcome == Recovery.Restored.IGNORED) {
            return;
        }
        audit.rolledBack(r.shard(), r.version());
        if (outcome == Recovery.Restored.DONE) {
            ctx.getLog().warn("rollback {} done in {} s: every shard at step {}; {} steps lost and done again; "
                    + "trainers rewind", recovery.rollbackId(), String.format(Locale.ROOT, "%.1f",
                    recovery.rollbackSeconds()), recovery.cutStep(), recovery.rollbackFrom() - recovery.cutStep());
            run.rolledBack(recovery.cutStep());
        }
    }

    /**
     * A shard incarnation waits for word. It gets the state its previous owner handed over if there is
     * one; nothing during a rollback (the rollback restores it); nothing if the shard has committed
     * before and no state was handed over (its node died: the rollback on the node's removal restores
     * it); otherwise it starts from its initial state.
     */
    void onShardStarted(ShardStarted s) {
        if (s.runId() != settings.runId() || s.shard() < 0 || s.shard() >= layout.shardCount()) {
            ctx.getLog().error("shard {} of run {} ({}) announced itself to run {} with {} shards: start every node"
                    + " with the same tributary.cluster.run-id and shards", s.shard(), s.runId(), s.owner(),
                    settings.runId(), layout.shardCount());
            return;
        }
        announced.put(s.shard(), s);
        Recovery.HandOver h = recovery.handOver(s.shard());
        if (h != null && promoting.containsKey(s.shard())) {
            return; // a promoted replica's state is still arriving; it is given once whole and checked
        }
        if (h != null) {
            if (h.state.complete()) {
                if (run.started()) {
                    s.shardRef().tell(run.quorum()); // the quorum changes it missed while it moved
                }
                for (StateChunk piece : recovery.handOverMessages(s.shard(), h, s.shardRef())) {
                    s.shardRef().tell(piece);
                }
            }
            return;
        }
        if (recovery.rollingBack()) {
            return;
        }
        if (audit.owned(s.shard())) {
            if (reportedStateless.add(s.owner())) {
                ctx.getLog().warn("shard {} started again on {} without its state (its node left?): it waits "
                        + "for the rollback that the node's removal starts", s.shard(), s.owner());
            }
            return;
        }
        s.shardRef().tell(new StartShard(settings.runId(), s.shard()));
    }

    /** A chunk of state: optimizer state for the cut, or a piece of a moving shard's state. */
    void onStateChunk(StateChunk s) {
        if (s.kind() == StateKind.OPTIMIZER_CUT) {
            recovery.optimizerSnapshot(s);
        } else if (s.kind() == StateKind.HAND_OVER) {
            onHandOverPiece(s);
        }
    }

    /** A piece of a moving shard's state from its old owner: kept, and acknowledged once all is here, intact. */
    private void onHandOverPiece(StateChunk s) {
        int k = s.shard();
        if (s.runId() != settings.runId() || k < 0 || k >= layout.shardCount()) {
            return;
        }
        int length = layout.length(k);
        if (s.parts() < 1 || s.part() < 0 || s.part() >= s.parts() || s.offset() < 0
                || s.offset() % ChunkedState.CHUNK_FLOATS != 0 || s.offset() > length - s.values().length) {
            ctx.getLog().error("shard {}: a piece of handed-over state from {} (part {} of {}, [{}, +{})) does "
                    + "not fit its {} parameters; ignored", k, s.owner(), s.part(), s.parts(), s.offset(),
                    s.values().length, length);
            return;
        }
        Recovery.HandOver before = recovery.handOver(k);
        Recovery.HandOver h = recovery.handOverOf(s);
        if (h != before) {
            if (run.finished()) {
                // the run is over and its ps nodes stop: sharding hands their shards off on the way out
                ctx.getLog().debug("shard {} hands its state over while its node stops", k);
            } else {
                ctx.getLog().warn("shard {} is moving to another ps node: receiving the state of version {} from {}",
                        k, s.version(), s.owner());
            }
        }
        if (h.version != s.version() || !h.owner.equals(s.owner())) {
            return; // an older copy of state already superseded
        }
        if (s.parts() == h.state.partCount()) {
            h.state.accept(s.part(), s.offset(), s.values(), s.partDigest());
        }
        if (h.state.complete() && !h.state.intact()) {
            ctx.getLog().error("shard {}: the state {} handed over arrived corrupt (a part does not match its digest); "
                    + "taking it again from the pieces it sends again", k, s.owner());
            h.state.restart();
        } else if (h.state.complete()) {
            s.replyTo().tell(new HandOverAck(k, h.owner)); // again for every piece sent again
            if (promoting.containsKey(k) && h.owner.equals(promoting.get(k))) {
                promotedStateArrived(k, h);
            }
        }
    }

    void onHandOverDone(HandOverDone d) {
        Recovery.HandOver h = recovery.handOverDone(d.shard(), d.previousOwner());
        if (h == null) {
            return;
        }
        double seconds = (System.nanoTime() - h.startNanos) / 1e9;
        ctx.getLog().warn("shard {} moved from {} to {} at version {} with its optimizer state ({} steps) in {} s",
                d.shard(), h.owner, d.owner(), d.version(), h.optimizerSteps, String.format(Locale.ROOT, "%.2f", seconds));
        listener.shardMoved(d.shard(), h.owner, d.owner(), d.version(), seconds);
        handedTo.put(d.shard(), new String[] {audit.owner(d.shard()), d.owner()});
        for (Member m : roster.all()) {
            if (m.live && !m.rewinding) {
                m.ref.tell(new ShardMoved(d.shard(), d.version()));
            }
        }
    }
}
