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
        if (!g.member().getRoles().contains("ps") || !run.started() || run.finished() || !recovery.hasCut()) {
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
        long committed = run.committedSteps();
        long id = recovery.beginRollback(committed);
        long cutStep = recovery.cutStep();
        ctx.getLog().warn("parameter-server node {} left: rolling every shard back to step {} (the run stood at "
                + "{}; {} steps are done again), rollback {}; {}", g.member().address(), cutStep, committed,
                committed - cutStep, id, recovery.optimizerAtCut() != null
                        ? "with the optimizer state of that step" : "the optimizer state starts from zero (none was kept "
                        + "for step " + cutStep + ")");
        listener.psFailover(g.member().address().toString(), committed, cutStep);
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
        Recovery.HandOver h = recovery.handOver(s.shard());
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
        if (s.parts() == h.state.partCount()) {
            h.state.accept(s.part(), s.offset(), s.values(), s.partDigest());
        }
        if (h.state.complete() && !h.state.intact()) {
            ctx.getLog().error("shard {}: the state {} handed over arrived corrupt (a part does not match its digest); "
                    + "taking it again from the pieces it sends again", k, s.owner());
            h.state.restart();
        } else if (h.state.complete()) {
            s.replyTo().tell(new HandOverAck(k, h.owner)); // again for every piece sent again
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
        for (Member m : roster.all()) {
            if (m.live && !m.rewinding) {
                m.ref.tell(new ShardMoved(d.shard(), d.version()));
            }
        }
    }
}
