package io.tributary.ps.shard;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.StateKind;
import io.tributary.ps.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One shard's replica on a ps node that does not own it: the parameters, the optimizer state and the
 * version its owner last had it hold. A committed step arrives as the aggregated gradient the owner
 * applied ({@link StateKind#REPLICA_STEP}); the replica applies it with an optimizer built exactly as the
 * owner's ({@link ParameterShard#optimizerFor}), so both hold the same bits. A replica that does not hold
 * the version a step starts from (new, or its owner changed, or it missed a step) says so and takes the
 * whole state ({@link StateKind#REPLICA_STATE}). No messaging here: {@link ShardReplicas} answers.
 */
final class ReplicaMirror {

    /** What a chunk did. */
    enum Outcome {
        /** Kept; the step or state is not whole yet (or arrived corrupt and is taken again). */
        PENDING,
        /** The replica now holds the owner's new version: acknowledge it. */
        HELD,
        /** A step from a version this replica does not hold: ask for the whole state. */
        NEEDS_STATE,
        /** Not a piece this replica can take (logged by the caller). */
        REFUSED
    }

    private final int length;
    private final Optimizer optimizer;
    private final float[] params;
    private final Tensor paramsTensor;
    private final float[] gradient;
    private final Tensor gradientTensor;
    private String owner;
    private long version = -1;
    private ShardCommitted commit;
    private StateKind incomingKind;
    private String incomingOwner;
    private long incomingVersion;
    private long incomingSteps;
    private ChunkedState incoming;

    ReplicaMirror(int length, Optimizer optimizer) {
        this.length = length;
        this.optimizer = optimizer;
        this.params = new float[length];
        this.paramsTensor = CpuBackend.wrap(params);
        this.gradient = new float[length];
        this.gradientTensor = CpuBackend.wrap(gradient);
    }

    /** The owner incarnation whose state this is (null: none yet). */
    String owner() {
        return owner;
    }

    /** The version held (-1: none). */
    long version() {
        return version;
    }

    /** The parameters held (the live array: read only). */
    float[] parameters() {
        return params;
    }

    Optimizer optimizer() {
        return optimizer;
    }

    /** The commit its owner sent with the step to {@code commit.version()}; kept for a promotion. */
    void keep(ShardCommitted c) {
        commit = c;
    }

    /** The commit that brought the replica to the version it holds, if its owner sent it; else null. */
    ShardCommitted commitOfHeldVersion() {
        return commit != null && commit.version() == version && commit.owner().equals(owner) ? commit : null;
    }

    /** A piece of a step or of a whole state from the owner. */
    Outcome offer(StateChunk c, Backend backend) {
        int parts = c.kind() == StateKind.REPLICA_STEP ? 1 : 1 + optimizer.state().length;
        if ((c.kind() != StateKind.REPLICA_STEP && c.kind() != StateKind.REPLICA_STATE) || c.parts() != parts) {
            return Outcome.REFUSED;
        }
        if (incoming == null || incomingKind != c.kind() || !incomingOwner.equals(c.owner())
                || incomingVersion != c.version()) {
            incoming = new ChunkedState(parts, length);
            incomingKind = c.kind();
            incomingOwner = c.owner();
            incomingVersion = c.version();
        }
        ChunkedState.Accepted a = incoming.accept(c.part(), c.offset(), c.values(), c.partDigest());
        if (a == ChunkedState.Accepted.MISFIT) {
            return Outcome.REFUSED;
        }
        if (a == ChunkedState.Accepted.NEW) {
            incomingSteps = c.optimizerSteps();
        }
        if (!incoming.complete()) {
            return Outcome.PENDING;
        }
        if (!incoming.intact()) {
            incoming.restart(); // corrupt on the way: the owner sends the whole state when nothing is acknowledged
            return Outcome.PENDING;
        }
        ChunkedState whole = incoming;
        incoming = null;
        if (incomingKind == StateKind.REPLICA_STEP) {
            if (version != incomingVersion || !incomingOwner.equals(owner)) {
                return Outcome.NEEDS_STATE;
            }
            System.arraycopy(whole.part(0), 0, gradient, 0, length);
            optimizer.apply(paramsTensor, gradientTensor);
            version++;
            return Outcome.HELD;
        }
        System.arraycopy(whole.part(0), 0, params, 0, length);
        Tensor[] state = optimizer.state();
        for (int i = 0; i < state.length; i++) {
            backend.upload(whole.part(1 + i), 0, state[i]);
        }
        optimizer.restoreSteps(incomingSteps);
        owner = incomingOwner;
        version = incomingVersion;
        return Outcome.HELD;
    }

    /**
     * The whole state held, as the hand-over its owner would have sent ({@link StateKind#HAND_OVER} in the
     * owner's name, {@code replyTo} the store that holds it), for the coordinator to give the next owner.
     */
    List<StateChunk> handOver(long runId, int shard, Backend backend, ActorRef<ShardCommand> replyTo) {
        Tensor[] state = optimizer.state();
        float[][] sources = new float[1 + state.length][];
        sources[0] = params;
        for (int i = 0; i < state.length; i++) {
            sources[1 + i] = new float[length];
            backend.download(state[i], sources[1 + i], 0);
        }
        List<StateChunk> out = new ArrayList<>();
        for (ChunkedState.Piece p : ChunkedState.cut(sources, new int[sources.length], length)) {
            out.add(new StateChunk(runId, shard, StateKind.HAND_OVER, 0, owner, version, optimizer.steps(),
                    sources.length, p.part(), p.offset(), p.values(), p.partDigest(), replyTo));
        }
        return out;
    }

    void close() {
        optimizer.free();
    }
}
