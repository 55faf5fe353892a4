package io.tributary.ps.shard;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.StateKind;
import io.tributary.protocol.ShardProtocol.RollbackShard;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.ps.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;

/**
 * A shard's state as it leaves and enters the shard in {@link ChunkedState} pieces: the hand-over
 * to the next owner (parameters, then each optimizer state vector), the optimizer state that goes
 * with an evaluation's parameters, the state a previous owner handed over, and a rollback's
 * parameters and optimizer state. Installing a whole state writes the shard's parameters and
 * optimizer in place.
 */
final class ShardTransfer {

    /** What the previous owner handed over, while it arrives. */
    record Incoming(String owner, long version, long optimizerSteps, ChunkedState state) {
    }

    private final long runId;
    private final int shard;
    private final String incarnation;
    private final float[] params;
    private final Optimizer optimizer;
    private final Backend backend;
    private final Logger log;
    private Incoming incoming;
    private ChunkedState restore;
    private long restoreId;
    private long restoreVersion;
    private long restoreSteps;

    ShardTransfer(long runId, int shard, String incarnation, float[] params, Optimizer optimizer, Backend backend,
                  Logger log) {
        this.log = log;
        this.runId = runId;
        this.shard = shard;
        this.incarnation = incarnation;
        this.params = params;
        this.optimizer = optimizer;
        this.backend = backend;
    }

    /** Parts of a whole shard state: the parameters and each optimizer state vector. */
    int parts() {
        return 1 + optimizer.state().length;
    }

    /** The whole state at {@code version}, in chunks, for the coordinator to hand to the next owner. */
    List<StateChunk> statePieces(long version, ActorRef<ShardCommand> from) {
        return chunks(StateKind.HAND_OVER, version, true, from);
    }

    /** The whole state at {@code version}, in chunks, for a replica ({@code from}: this shard, which the replica answers). */
    List<StateChunk> replicaPieces(long version, ActorRef<ShardCommand> from) {
        return chunks(StateKind.REPLICA_STATE, version, true, from);
    }

    /** The optimizer state at {@code version}, in chunks, to go with an evaluation's parameters. */
    List<StateChunk> optimizerPieces(long version) {
        return chunks(StateKind.OPTIMIZER_CUT, version, false, null);
    }

    private List<StateChunk> chunks(StateKind kind, long version, boolean withParameters, ActorRef<ShardCommand> from) {
        Tensor[] state = optimizer.state();
        int first = withParameters ? 1 : 0;
        float[][] sources = new float[first + state.length][];
        if (withParameters) {
            sources[0] = params;
        }
        for (int i = 0; i < state.length; i++) {
            sources[first + i] = new float[params.length];
            backend.download(state[i], sources[first + i], 0);
        }
        List<StateChunk> out = new ArrayList<>();
        for (ChunkedState.Piece p : ChunkedState.cut(sources, new int[sources.length], params.length)) {
            out.add(new StateChunk(runId, shard, kind, 0, incarnation, version, optimizer.steps(), sources.length,
                    p.part(), p.offset(), p.values(), p.partDigest(), from));
        }
        return out;
    }

    /**
     * Keeps a piece of handed-over state (a piece of another owner or version starts a new
     * assembly). Returns what became of it; the caller checks the part count first.
     */
    ChunkedState.Accepted offer(StateChunk s) {
        if (incoming == null || !s.owner().equals(incoming.owner()) || s.version() != incoming.version()) {
            incoming = new Incoming(s.owner(), s.version(), s.optimizerSteps(), new ChunkedState(parts(), params.length));
        }
        return incoming.state().accept(s.part(), s.offset(), s.values(), s.partDigest());
    }

    /**
     * Every piece of the handed-over state is here and matches its digests. A state that arrived
     * corrupt is forgotten (logged): the coordinator sends it again until the shard answers.
     */
    boolean incomingComplete() {
        if (incoming == null || !incoming.state().complete()) {
            return false;
        }
        if (!incoming.state().intact()) {
            log.error("shard {}: the state {} handed over arrived corrupt (a part does not match its digest); taking "
                    + "it again", shard, incoming.owner());
            incoming.state().restart();
            return false;
        }
        return true;
    }

    /** Installs the handed-over state (parameters, optimizer vectors and step count); returns what it was. */
    Incoming installIncoming() {
        Incoming in = incoming;
        System.arraycopy(in.state().part(0), 0, params, 0, params.length);
        Tensor[] state = optimizer.state();
        for (int i = 0; i < state.length; i++) {
            backend.upload(in.state().part(i + 1), 0, state[i]);
        }
        optimizer.restoreSteps(in.optimizerSteps());
        incoming = null;
        return in;
    }

    /**
     * A rollback begins: its state follows in {@link StateKind#ROLLBACK} chunks, the parameters then
     * {@code r.optimizerParts()} optimizer vectors. Returns false when that count is not this
     * optimizer's (the vectors are then not used and the optimizer starts from zero).
     */
    boolean beginRestore(RollbackShard r) {
        restoreVersion = r.version();
        restoreId = r.rollbackId();
        restore = new ChunkedState(1 + r.optimizerParts(), params.length);
        int parts = optimizer.state().length;
        return r.optimizerParts() == parts || r.optimizerParts() == 0;
    }

    /** A rollback's state is arriving. */
    boolean restoring() {
        return restore != null;
    }

    long restoreVersion() {
        return restoreVersion;
    }

    /** A chunk of the rollback's state (of this run and rollback, while restoring); true when it was new. */
    boolean restore(StateChunk c) {
        if (restore == null || c.kind() != StateKind.ROLLBACK || c.runId() != runId || c.shard() != shard
                || c.transfer() != restoreId || c.version() != restoreVersion || c.parts() != restore.partCount()) {
            return false;
        }
        ChunkedState.Accepted a = restore.accept(c.part(), c.offset(), c.values(), c.partDigest());
        if (a == ChunkedState.Accepted.MISFIT) {
            log.error("shard {}: rollback chunk (part {}, [{}, +{})) does not fit its {} parameters; ignored", shard,
                    c.part(), c.offset(), c.values().length, params.length);
        } else if (a == ChunkedState.Accepted.NEW) {
            restoreSteps = c.optimizerSteps();
        }
        return a == ChunkedState.Accepted.NEW;
    }

    /** Every chunk of the rollback's state is here and matches its digests (a corrupt one is taken again). */
    boolean restoreComplete() {
        if (restore == null || !restore.complete()) {
            return false;
        }
        if (!restore.intact()) {
            log.error("shard {}: the rollback's state arrived corrupt (a part does not match its digest); taking it "
                    + "again from the coordinator's next sending", shard);
            restore.restart();
            return false;
        }
        return true;
    }

    /** Installs the rollback's state; returns whether the optimizer state came with it (else it starts from zero). */
    boolean installRestore() {
        System.arraycopy(restore.part(0), 0, params, 0, params.length);
        Tensor[] state = optimizer.state();
        boolean withOptimizer = state.length > 0 && restore.partCount() == 1 + state.length;
        if (withOptimizer) {
            for (int i = 0; i < state.length; i++) {
                backend.upload(restore.part(1 + i), 0, state[i]);
            }
            optimizer.restoreSteps(restoreSteps);
        } else {
            optimizer.reset();
        }
        restore = null;
        return withOptimizer;
    }
}
