package io.tributary.ps.shard;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.protocol.ShardProtocol.ReplicaAck;
import io.tributary.protocol.ShardProtocol.ReplicaCommit;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.StateKind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * A shard owner's side of its replicas: which ps nodes' stores ({@link ShardReplicas}) keep them (the
 * {@code replicas - 1} first of the other ps nodes' stores, in the order of their paths, rotated by the
 * shard number so that the shards spread), and each committed step sent to them before it is announced.
 * The owner copies the aggregated gradient before the optimizer applies it ({@link #captured}); after
 * the commit it sends each replica that step (or the whole state, to one that does not hold the version
 * before) and holds the announcement back ({@link #holding}) until every replica has answered or
 * {@code replica-timeout} has passed.
 */
final class Replication {

    /** The replica stores of the cluster changed (from the receptionist). */
    record Stores(Set<ActorRef<ShardCommand>> stores) implements ShardCommand {
    }

    /** The replicas have not all answered the step to {@code version} in time. */
    record Timeout(long version) implements ShardCommand {
    }

    private final ActorContext<ShardCommand> ctx;
    private final TimerScheduler<ShardCommand> timers;
    private final int shard;
    private final long runId;
    private final String incarnation;
    private final ShardSettings settings;
    private final ShardTransfer transfer;
    private final Backend backend;
    private final float[] gradient;
    private final ShardMetrics metrics;
    private List<ActorRef<ShardCommand>> targets = List.of();
    private final Set<ActorRef<ShardCommand>> waiting = new HashSet<>();
    /** Targets known not to hold the version before the next step: they get the whole state. */
    private final Set<ActorRef<ShardCommand>> needState = new HashSet<>();
    private boolean applied;
    private long pendingVersion = -1;
    private Runnable publish;
    private long sentNanos;
    private boolean warnedAlone;

    Replication(ActorContext<ShardCommand> ctx, TimerScheduler<ShardCommand> timers, int shard, long runId,
                String incarnation, ShardSettings settings, ShardTransfer transfer, Backend backend, int length,
                ShardMetrics metrics) {
        this.ctx = ctx;
        this.timers = timers;
        this.shard = shard;
        this.runId = runId;
        this.incarnation = incarnation;
        this.settings = settings;
        this.transfer = transfer;
        this.backend = backend;
        this.gradient = new float[length];
        this.metrics = metrics;
    }

    /** The stores of the cluster: the other nodes' ones, rotated by the shard number, the first {@code replicas - 1}. */
    void stores(Set<ActorRef<ShardCommand>> all) {
        List<ActorRef<ShardCommand>> remote = new ArrayList<>();
        for (ActorRef<ShardCommand> r : all) {
            // a store of this node has a local address (no host) in this actor system
            boolean here = r.path().address().hasLocalScope()
                    && r.path().address().system().equals(ctx.getSystem().name());
            if (!here) {
                remote.add(r);
            }
        }
        remote.sort(Comparator.comparing(r -> r.path().toString()));
        List<ActorRef<ShardCommand>> chosen = new ArrayList<>();
        for (int i = 0; i < Math.min(settings.replicas() - 1, remote.size()); i++) {
            chosen.add(remote.get((shard + i) % remote.size()));
        }
        if (!chosen.equals(targets)) {
            for (ActorRef<ShardCommand> t : chosen) {
                if (!targets.contains(t)) {
                    needState.add(t);
                }
            }
            needState.retainAll(chosen);
            waiting.retainAll(chosen);
            targets = List.copyOf(chosen);
            ctx.getLog().info("shard {}: replicas on {}", shard, targets.isEmpty() ? "no other ps node" : targets.stream()
                    .map(r -> r.path().address().toString()).toList());
            if (publish != null && waiting.isEmpty()) {
                release();
            }
        }
    }

    /** The aggregate of the step being closed, before the optimizer applies it. */
    void captured(Tensor aggregate) {
        backend.download(aggregate, gradient, 0);
        applied = true;
    }

    /**
     * The step from {@code base} to {@code version} is committed here: sent to every replica, and
     * {@code publishIt} (the announcement) runs once they hold it. Returns false, with nothing held
     * back, when there is no replica to wait for.
     */
    boolean replicate(long base, long version, ShardCommitted commit, Runnable publishIt) {
        boolean wasApplied = applied;
        applied = false;
        if (targets.isEmpty()) {
            if (!warnedAlone && settings.replicated()) {
                warnedAlone = true;
                ctx.getLog().warn("shard {}: no other ps node to keep a replica: a death of this node rolls the run back"
                        + " to its last evaluation", shard);
            }
            return false;
        }
        warnedAlone = false;
        List<StateChunk> step = null;
        for (ActorRef<ShardCommand> t : targets) {
            t.tell(new ReplicaCommit(runId, commit));
            if (!wasApplied || needState.contains(t)) {
                sendState(t, version);
            } else {
                if (step == null) {
                    step = stepPieces(base);
                }
                step.forEach(t::tell);
            }
        }
        waiting.clear();
        waiting.addAll(targets);
        pendingVersion = version;
        publish = publishIt;
        sentNanos = System.nanoTime();
        timers.startSingleTimer("replica", new Timeout(version), settings.replicaTimeout());
        return true;
    }

    /** Whether an announcement waits for the replicas. */
    boolean holding() {
        return publish != null;
    }

    void ack(ReplicaAck a) {
        if (a.runId() != runId || a.shard() != shard || !a.owner().equals(incarnation) || !targets.contains(a.replica())) {
            return;
        }
        if (a.needsState()) {
            needState.add(a.replica());
            if (publish != null && waiting.contains(a.replica())) {
                sendState(a.replica(), pendingVersion); // the state has not moved since the step it missed
            }
            return;
        }
        if (publish != null && a.version() == pendingVersion && waiting.remove(a.replica())) {
            needState.remove(a.replica());
            if (waiting.isEmpty()) {
                metrics.replicaSeconds.observe((System.nanoTime() - sentNanos) / 1e9);
                release();
            }
        }
    }

    void timeout(Timeout t) {
        if (publish == null || t.version() != pendingVersion) {
            return;
        }
        ctx.getLog().warn("shard {}: replica(s) {} did not confirm version {} within {} ms; announcing it without them"
                + " (they get the whole state at the next step)", shard, waiting.stream()
                .map(r -> r.path().address().toString()).toList(), pendingVersion, settings.replicaTimeout().toMillis());
        metrics.replicaTimeouts.inc();
        needState.addAll(waiting);
        release();
    }

    /** Announce now what is held back (the shard hands off or stops). */
    void flush() {
        if (publish != null) {
            release();
        }
    }

    /** The shard's state was replaced (a rollback): nothing held back is announced, every replica needs the state. */
    void drop() {
        timers.cancel("replica");
        publish = null;
        waiting.clear();
        needState.addAll(targets);
        applied = false;
    }

    private void release() {
        timers.cancel("replica");
        Runnable p = publish;
        publish = null;
        waiting.clear();
        p.run();
    }

    private void sendState(ActorRef<ShardCommand> t, long version) {
        for (StateChunk piece : transfer.replicaPieces(version, ctx.getSelf())) {
            t.tell(piece);
        }
    }

    private List<StateChunk> stepPieces(long base) {
        List<StateChunk> out = new ArrayList<>();
        for (ChunkedState.Piece p : ChunkedState.cut(new float[][] {gradient}, new int[1], gradient.length)) {
            out.add(new StateChunk(runId, shard, StateKind.REPLICA_STEP, 0, incarnation, base, 0, 1, p.part(),
                    p.offset(), p.values(), p.partDigest(), ctx.getSelf()));
        }
        return out;
    }
}
