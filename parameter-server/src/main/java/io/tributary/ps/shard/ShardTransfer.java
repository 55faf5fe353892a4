package io.tributary.ps.shard;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.TrainingProtocol.OptimizerSnapshot;
import io.tributary.protocol.TrainingProtocol.RestoreChunk;
import io.tributary.protocol.TrainingProtocol.RollbackShard;
import io.tributary.protocol.TrainingProtocol.ShardCommand;
import io.tributary.protocol.TrainingProtocol.ShardState;
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
    private final float[] scratch;
    private final Logger log;
    private Incoming incoming;
    private ChunkedState restoreParams;
    private ChunkedState restoreOptimizer;
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
        this.scratch = new float[params.length];
    }

    /** Parts of a whole shard state: the parameters and each optimizer state vector. */
    int parts() {
        return 1 + optimizer.state().length;
    }

    /** The whole state at {@code version}, in pieces, for the coordinator to hand to the next owner. */
    List<ShardState> statePieces(long version, ActorRef<ShardCommand> from) {
        List<ShardState> out = new ArrayList<>();
        Tensor[] state = optimizer.state();
        for (int part = 0; part < parts(); part++) {
            float[] source = params;
            if (part > 0) {
                backend.download(state[part - 1], scratch, 0);
                source = scratch;
            }
            for (int off = 0; off < params.length; off += ChunkedState.CHUNK_FLOATS) {
                out.add(new ShardState(runId, shard, incarnation, version, optimizer.steps(), parts(), part, off,
                        ChunkedState.slice(source, 0, params.length, off), from));
            }
        }
        return out;
    }

    /** The optimizer state at {@code version}, in pieces, to go with an evaluation's parameters. */
    List<OptimizerSnapshot> optimizerPieces(long version) {
        List<OptimizerSnapshot> out = new ArrayList<>();
        Tensor[] state = optimizer.state();
        for (int part = 0; part < state.length; part++) {
            backend.download(state[part], scratch, 0);
            for (int off = 0; off < params.length; off += ChunkedState.CHUNK_FLOATS) {
                out.add(new OptimizerSnapshot(runId, shard, version, optimizer.steps(), state.length, part, off,
                        ChunkedState.slice(scratch, 0, params.length, off)));
            }
        }
        return out;
    }

    /**
     * Keeps a piece of handed-over state (a piece of another owner or version starts a new
     * assembly). Returns what became of it; the caller checks the part count first.
     */
    ChunkedState.Accepted offer(ShardState s) {
        if (incoming == null || !s.owner().equals(incoming.owner()) || s.version() != incoming.version()) {
            incoming = new Incoming(s.owner(), s.version(), s.optimizerSteps(), new ChunkedState(parts(), params.length));
        }
        return incoming.state().accept(s.part(), s.offset(), s.values());
    }

    /** Every piece of the handed-over state is here. */
    boolean incomingComplete() {
        return incoming != null && incoming.state().complete();
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
     * A rollback begins: the parameters of {@code r.version()} follow, and its optimizer state when
     * {@code r.optimizerParts()} matches this optimizer's (returns false when it does not and the
     * optimizer will start from zero).
     */
    boolean beginRestore(RollbackShard r) {
        restoreVersion = r.version();
        restoreParams = new ChunkedState(1, params.length);
        int parts = optimizer.state().length;
        boolean withOptimizer = r.optimizerParts() == parts && parts > 0;
        restoreOptimizer = withOptimizer ? new ChunkedState(parts, params.length) : null;
        return withOptimizer || r.optimizerParts() == 0;
    }

    /** A rollback's state is arriving. */
    boolean restoring() {
        return restoreParams != null;
    }

    long restoreVersion() {
        return restoreVersion;
    }

    /** A piece of the rollback's parameters (of this run, while restoring); true when it was new. */
    boolean restore(RestoreChunk c) {
        if (restoreParams == null || c.runId() != runId) {
            return false;
        }
        ChunkedState.Accepted a = restoreParams.accept(0, c.offset(), c.values());
        if (a == ChunkedState.Accepted.MISFIT) {
            log.error("shard {}: restore chunk [{}, +{}) is outside its {} parameters; ignored", shard, c.offset(),
                    c.values().length, params.length);
        }
        return a == ChunkedState.Accepted.NEW;
    }

    /** A piece of the rollback's optimizer state; pieces of another run, shard, version or shape are ignored. */
    boolean restore(OptimizerSnapshot o) {
        if (restoreOptimizer == null || o.runId() != runId || o.shard() != shard || o.version() != restoreVersion
                || o.parts() != restoreOptimizer.partCount()) {
            return false;
        }
        ChunkedState.Accepted a = restoreOptimizer.accept(o.part(), o.offset(), o.values());
        if (a == ChunkedState.Accepted.MISFIT) {
            log.error("shard {}: optimizer state piece (part {}, [{}, +{})) is outside its {} parameters; ignored",
                    shard, o.part(), o.offset(), o.values().length, params.length);
        } else if (a == ChunkedState.Accepted.NEW) {
            restoreSteps = o.optimizerSteps();
        }
        return a == ChunkedState.Accepted.NEW;
    }

    boolean restoreComplete() {
        return restoreParams != null && restoreParams.complete()
                && (restoreOptimizer == null || restoreOptimizer.complete());
    }

    /** Installs the rollback's state; returns whether the optimizer state came with it (else it starts from zero). */
    boolean installRestore() {
        System.arraycopy(restoreParams.part(0), 0, params, 0, params.length);
        boolean withOptimizer = restoreOptimizer != null;
        if (withOptimizer) {
            Tensor[] state = optimizer.state();
            for (int i = 0; i < state.length; i++) {
                backend.upload(restoreOptimizer.part(i), 0, state[i]);
            }
            optimizer.restoreSteps(restoreSteps);
        } else {
            optimizer.reset();
        }
        restoreParams = null;
        restoreOptimizer = null;
        return withOptimizer;
    }
}
