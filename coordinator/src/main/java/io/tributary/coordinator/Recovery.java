package io.tributary.coordinator;

import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.StateKind;
import io.tributary.protocol.ShardProtocol.RollbackShard;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StateChunk;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What the coordinator keeps so that the run survives a parameter-server node: the last consistent
 * cut (every shard's parameters at one step, from an evaluation) with the optimizer state of that
 * step, the state of shards moving to another ps node while it passes through, and the rollback
 * itself as a small state machine ({@link State}). No messaging: the coordinator sends what this
 * class builds.
 */
final class Recovery {

    /** Where recovery stands. */
    enum State {
        /** Shards serve; a cut is kept at every consistent evaluation. */
        SERVING,
        /** Every shard is told to go back to the cut; commits are void until all answered. */
        ROLLING_BACK
    }

    /** Optimizer versions kept at once (the cut's and a few newer ones still arriving). */
    static final int KEPT_OPTIMIZER_CUTS = 4;
    /** At most this many optimizer state vectors per shard (Adam has 2). */
    static final int MAX_OPTIMIZER_PARTS = 8;

    /** Every shard's optimizer state at one version, as the shards send it with an evaluation's parameters. */
    static final class OptimizerCut {
        final ChunkedState[] shards;
        final long[] steps;

        OptimizerCut(ShardLayout layout, int parts) {
            shards = new ChunkedState[layout.shardCount()];
            steps = new long[layout.shardCount()];
            for (int k = 0; k < shards.length; k++) {
                shards[k] = new ChunkedState(parts, layout.length(k));
            }
        }

        boolean complete() {
            for (ChunkedState s : shards) {
                if (!s.complete()) {
                    return false;
                }
            }
            return true;
        }
    }

    /** The state a shard's previous owner handed over, while it arrives and until the next owner took it. */
    static final class HandOver {
        final String owner;
        final long version;
        final long optimizerSteps;
        final ChunkedState state;
        final long startNanos = System.nanoTime();

        HandOver(StateChunk s, int length) {
            owner = s.owner();
            version = s.version();
            optimizerSteps = s.optimizerSteps();
            state = new ChunkedState(s.parts(), length);
        }
    }

    private final long runId;
    private final ShardLayout layout;
    private final TreeMap<Long, OptimizerCut> optimizerCuts = new TreeMap<>();
    private final Map<Integer, HandOver> handOvers = new HashMap<>();
    private float[] cut;
    private long cutStep;
    private State state = State.SERVING;
    private long rollbackId;
    private boolean[] restored = new boolean[0];
    private int shardsRestored;
    private long rollbackStartNanos;
    private long rollbackFrom;

    Recovery(long runId, ShardLayout layout) {
        this.runId = runId;
        this.layout = layout;
    }

    /** The run starts (or resumes) at {@code step} with these parameters: the first cut. */
    void start(float[] initial, long step) {
        cut = initial.clone();
        cutStep = step;
    }

    /** Whether the run has a cut to go back to (it started). */
    boolean hasCut() {
        return cut != null;
    }

    long cutStep() {
        return cutStep;
    }

    /** The cut's parameters (the live array: read only). */
    float[] cut() {
        return cut;
    }

    /** Every shard stood at {@code step} with these parameters: the new cut; older optimizer states go. */
    void takeCut(float[] parameters, long step) {
        if (cut == null) {
            cut = parameters.clone(); // the first cut of a coordinator that took the run over
        } else {
            System.arraycopy(parameters, 0, cut, 0, cut.length);
        }
        cutStep = step;
        optimizerCuts.headMap(step).clear(); // older than the cut: never restored
    }

    State state() {
        return state;
    }

    boolean rollingBack() {
        return state == State.ROLLING_BACK;
    }

    long rollbackId() {
        return rollbackId;
    }

    /** The optimizer state at the cut when every piece of it is here, else null (the optimizer then starts from zero). */
    OptimizerCut optimizerAtCut() {
        OptimizerCut oc = optimizerCuts.get(cutStep);
        return oc != null && oc.complete() ? oc : null;
    }

    /**
     * Keeps a piece of a shard's optimizer state ({@link StateKind#OPTIMIZER_CUT}); pieces of another run,
     * out of range or older than the cut are dropped, and so is a shard's state that arrives corrupt.
     */
    void optimizerSnapshot(StateChunk o) {
        int k = o.shard();
        if (o.kind() != StateKind.OPTIMIZER_CUT || o.runId() != runId || k < 0 || k >= layout.shardCount()
                || o.parts() < 1 || o.parts() > MAX_OPTIMIZER_PARTS || o.version() < cutStep) {
            return;
        }
        OptimizerCut c = optimizerCuts.get(o.version());
        if (c == null) {
            if (optimizerCuts.size() >= KEPT_OPTIMIZER_CUTS) {
                optimizerCuts.pollFirstEntry();
            }
            c = new OptimizerCut(layout, o.parts());
            optimizerCuts.put(o.version(), c);
        }
        if (c.shards[k].partCount() == o.parts()
                && c.shards[k].accept(o.part(), o.offset(), o.values(), o.partDigest()) == ChunkedState.Accepted.NEW) {
            c.steps[k] = o.optimizerSteps();
            if (c.shards[k].complete() && !c.shards[k].intact()) {
                c.shards[k].restart(); // corrupt on the way: the next evaluation's cut replaces it
            }
        }
    }

    /** The hand-over of shard {@code shard} under way, or null. */
    HandOver handOver(int shard) {
        return handOvers.get(shard);
    }

    int handOversPending() {
        return handOvers.size();
    }

    /**
     * The hand-over a piece of state belongs to: the one under way, or a new one (replacing it) when
     * the piece comes from another owner or version. The piece itself is not stored here.
     */
    HandOver handOverOf(StateChunk s) {
        HandOver h = handOvers.get(s.shard());
        if (h != null && h.owner.equals(s.owner()) && s.version() < h.version) {
            return h; // an older copy of the same owner's state (a lagging replica): the newer one stays
        }
        if (h == null || !h.owner.equals(s.owner()) || h.version != s.version()) {
            h = new HandOver(s, layout.length(s.shard()));
            handOvers.put(s.shard(), h);
        }
        return h;
    }

    /** Forgets the hand-over of {@code shard} (a promoted replica that was behind). */
    void dropHandOver(int shard) {
        handOvers.remove(shard);
    }

    /** The next owner took the state {@code previousOwner} handed over: returns that hand-over, or null if none matches. */
    HandOver handOverDone(int shard, String previousOwner) {
        HandOver h = handOvers.get(shard);
        if (h == null || !h.owner.equals(previousOwner)) {
            return null;
        }
        handOvers.remove(shard);
        return h;
    }

    /**
     * A ps node died: every shard goes back to the cut. States handed over before this are dropped
     * (the rollback restores those shards too). Returns the new rollback's id.
     */
    long beginRollback(long runStoodAt) {
        rollbackId++;
        state = State.ROLLING_BACK;
        handOvers.clear();
        shardsRestored = 0;
        restored = new boolean[layout.shardCount()];
        rollbackStartNanos = System.nanoTime();
        rollbackFrom = runStoodAt;
        return rollbackId;
    }

    boolean restored(int shard) {
        return restored[shard];
    }

    int shardsRestored() {
        return shardsRestored;
    }

    /** Where the run stood when the rollback began. */
    long rollbackFrom() {
        return rollbackFrom;
    }

    double rollbackSeconds() {
        return (System.nanoTime() - rollbackStartNanos) / 1e9;
    }

    /** What a shard's answer to a rollback did. */
    enum Restored {
        /** Not this rollback's, or that shard answered already. */
        IGNORED,
        /** Counted; other shards are still to answer. */
        COUNTED,
        /** The last one: every shard stands at the cut, recovery serves again. */
        DONE
    }

    /**
     * Shard {@code shard} answered rollback {@code id}. When this completes the rollback recovery
     * serves again, and only state handed over at the cut's version (by a shard restored in this
     * rollback) is kept.
     */
    Restored shardRestored(int shard, long id) {
        if (state != State.ROLLING_BACK || id != rollbackId || shard < 0 || shard >= restored.length || restored[shard]) {
            return Restored.IGNORED;
        }
        restored[shard] = true;
        if (++shardsRestored < layout.shardCount()) {
            return Restored.COUNTED;
        }
        state = State.SERVING;
        handOvers.values().removeIf(h -> h.version != cutStep);
        return Restored.DONE;
    }

    /**
     * What shard {@code k} is told in the rollback: the order, then the cut's state in chunks (the
     * parameters, then the cut's optimizer state vectors when all of them are here).
     */
    List<ShardCommand> rollbackMessages(int k, ActorRef<CoordinatorCommand> coordinator) {
        List<ShardCommand> out = new ArrayList<>();
        int length = layout.length(k);
        OptimizerCut oc = optimizerAtCut();
        int optimizerParts = oc != null ? oc.shards[k].partCount() : 0;
        out.add(new RollbackShard(runId, rollbackId, cutStep, length, optimizerParts, coordinator));
        float[][] sources = new float[1 + optimizerParts][];
        int[] bases = new int[sources.length];
        sources[0] = cut;
        bases[0] = layout.offset(k);
        for (int p = 0; p < optimizerParts; p++) {
            sources[1 + p] = oc.shards[k].part(p);
        }
        long steps = oc != null ? oc.steps[k] : 0;
        for (ChunkedState.Piece piece : ChunkedState.cut(sources, bases, length)) {
            out.add(new StateChunk(runId, k, StateKind.ROLLBACK, rollbackId, "coordinator", cutStep, steps,
                    sources.length, piece.part(), piece.offset(), piece.values(), piece.partDigest(), null));
        }
        return out;
    }

    /** The pieces of a whole hand-over for the shard's next incarnation {@code to}. */
    List<StateChunk> handOverMessages(int k, HandOver h, ActorRef<ShardCommand> to) {
        float[][] sources = new float[h.state.partCount()][];
        for (int p = 0; p < sources.length; p++) {
            sources[p] = h.state.part(p);
        }
        List<StateChunk> out = new ArrayList<>();
        for (ChunkedState.Piece piece : ChunkedState.cut(sources, new int[sources.length], h.state.length())) {
            out.add(new StateChunk(runId, k, StateKind.HAND_OVER, 0, h.owner, h.version, h.optimizerSteps,
                    sources.length, piece.part(), piece.offset(), piece.values(), piece.partDigest(), to));
        }
        return out;
    }
}
