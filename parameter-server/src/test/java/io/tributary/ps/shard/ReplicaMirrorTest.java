package io.tributary.ps.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.StateKind;
import io.tributary.ps.optim.Optimizer;
import io.tributary.ps.optim.OptimizerSettings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ReplicaMirrorTest {

    private static final String OWNER = "127.0.0.1:40999/ab12";
    private static ActorTestKit kit;
    private static TestProbe<ShardCommand> owner;
    private final Backend backend = CpuBackend.create();

    @BeforeAll
    static void start() {
        kit = ActorTestKit.create();
        owner = kit.createTestProbe();
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    private static List<StateChunk> pieces(StateKind kind, String from, long version, long steps, float[]... parts) {
        List<StateChunk> out = new ArrayList<>();
        for (ChunkedState.Piece p : ChunkedState.cut(parts, new int[parts.length], parts[0].length)) {
            out.add(new StateChunk(7L, 1, kind, 0, from, version, steps, parts.length, p.part(), p.offset(), p.values(),
                    p.partDigest(), owner.ref()));
        }
        return out;
    }

    private ReplicaMirror.Outcome offerAll(ReplicaMirror m, List<StateChunk> chunks) {
        ReplicaMirror.Outcome last = null;
        for (StateChunk c : chunks) {
            last = m.offer(c, backend);
        }
        return last;
    }

    @Test
    void plainSgdStepsGiveTheHandComputedParameters() {
        // SGD without momentum, learning rate 0.5: p <- p - 0.5 g, each value exact in binary
        ReplicaMirror m = new ReplicaMirror(3, Optimizer.create(OptimizerSettings.sgd(0.5f, 0f), backend, 3));
        assertEquals(ReplicaMirror.Outcome.HELD, offerAll(m, pieces(StateKind.REPLICA_STATE, OWNER, 4, 4,
                new float[] {1f, 2f, 3f}, new float[3])));
        assertEquals(4, m.version());
        assertEquals(ReplicaMirror.Outcome.HELD, offerAll(m, pieces(StateKind.REPLICA_STEP, OWNER, 4, 0,
                new float[] {2f, -4f, 0.5f})));
        assertEquals(5, m.version());
        assertArrayEquals(new float[] {0f, 4f, 2.75f}, m.parameters());
        assertEquals(ReplicaMirror.Outcome.HELD, offerAll(m, pieces(StateKind.REPLICA_STEP, OWNER, 5, 0,
                new float[] {1f, 1f, 1f})));
        assertArrayEquals(new float[] {-0.5f, 3.5f, 2.25f}, m.parameters());
    }

    @Test
    void adamStepsOverSeveralChunksHoldTheOwnersBitsExactly() {
        int n = ChunkedState.CHUNK_FLOATS * 2 + 123; // three chunks per vector
        Random random = new Random(11);
        float[] initial = new float[n];
        for (int i = 0; i < n; i++) {
            initial[i] = (float) random.nextGaussian();
        }
        // the owner: its own optimizer on its own copy, the reference the replica must match bit for bit
        float[] ownerParams = initial.clone();
        Tensor ownerTensor = CpuBackend.wrap(ownerParams);
        Optimizer ownerOpt = Optimizer.create(OptimizerSettings.adam(0.01f), backend, n);
        ReplicaMirror m = new ReplicaMirror(n, Optimizer.create(OptimizerSettings.adam(0.01f), backend, n));
        float[] zeros = new float[n];
        assertEquals(ReplicaMirror.Outcome.HELD,
                offerAll(m, pieces(StateKind.REPLICA_STATE, OWNER, 0, 0, initial.clone(), zeros, zeros)));
        for (int step = 0; step < 5; step++) {
            float[] g = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = (float) random.nextGaussian() * 0.1f;
            }
            List<StateChunk> chunks = pieces(StateKind.REPLICA_STEP, OWNER, step, 0, g.clone());
            Collections.reverse(chunks); // any order
            ownerOpt.apply(ownerTensor, CpuBackend.wrap(g));
            assertEquals(ReplicaMirror.Outcome.HELD, offerAll(m, chunks), "step " + step);
        }
        assertEquals(5, m.version());
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(ownerParams[i]), Float.floatToRawIntBits(m.parameters()[i]), "value " + i);
        }
        assertEquals(ownerOpt.steps(), m.optimizer().steps());
    }

    @Test
    void aStepFromAVersionOrOwnerItDoesNotHoldAsksForTheWholeStateAndChangesNothing() {
        ReplicaMirror m = new ReplicaMirror(2, Optimizer.create(OptimizerSettings.sgd(1f, 0f), backend, 2));
        // nothing held yet
        assertEquals(ReplicaMirror.Outcome.NEEDS_STATE, offerAll(m, pieces(StateKind.REPLICA_STEP, OWNER, 0, 0,
                new float[] {1f, 1f})));
        offerAll(m, pieces(StateKind.REPLICA_STATE, OWNER, 3, 3, new float[] {5f, 6f}, new float[2]));
        assertEquals(ReplicaMirror.Outcome.NEEDS_STATE, offerAll(m, pieces(StateKind.REPLICA_STEP, OWNER, 4, 0,
                new float[] {1f, 1f})), "a step it missed");
        assertEquals(ReplicaMirror.Outcome.NEEDS_STATE, offerAll(m, pieces(StateKind.REPLICA_STEP,
                "127.0.0.1:41000/cd34", 3, 0, new float[] {1f, 1f})), "another owner");
        assertEquals(3, m.version());
        assertArrayEquals(new float[] {5f, 6f}, m.parameters());
    }

    @Test
    void aCorruptStepIsNotApplied() {
        ReplicaMirror m = new ReplicaMirror(2, Optimizer.create(OptimizerSettings.sgd(1f, 0f), backend, 2));
        offerAll(m, pieces(StateKind.REPLICA_STATE, OWNER, 3, 3, new float[] {5f, 6f}, new float[2]));
        StateChunk good = pieces(StateKind.REPLICA_STEP, OWNER, 3, 0, new float[] {1f, 1f}).get(0);
        StateChunk bad = new StateChunk(good.runId(), good.shard(), good.kind(), 0, good.owner(), good.version(), 0, 1, 0,
                0, new float[] {1f, 9f}, good.partDigest(), good.replyTo());
        assertEquals(ReplicaMirror.Outcome.PENDING, m.offer(bad, backend));
        assertEquals(3, m.version());
        assertArrayEquals(new float[] {5f, 6f}, m.parameters());
        assertEquals(ReplicaMirror.Outcome.HELD, m.offer(good, backend));
        assertArrayEquals(new float[] {4f, 5f}, m.parameters());
    }

    @Test
    void theHandOverInTheOwnersNameCarriesTheHeldStateAndTheCommitOfThatVersion() {
        ReplicaMirror m = new ReplicaMirror(2, Optimizer.create(OptimizerSettings.sgd(1f, 0.5f), backend, 2));
        offerAll(m, pieces(StateKind.REPLICA_STATE, OWNER, 3, 3, new float[] {5f, 6f}, new float[] {0.25f, -1f}));
        ShardCommitted commit = new ShardCommitted(1, 3, 3, 3, false, Set.of(), Set.of(), Map.of(0, 1L), 4, OWNER);
        m.keep(commit);
        assertNull(m.commitOfHeldVersion(), "the commit of version 4 before the replica holds it");
        offerAll(m, pieces(StateKind.REPLICA_STEP, OWNER, 3, 0, new float[] {1f, 2f}));
        assertSame(commit, m.commitOfHeldVersion());
        List<StateChunk> out = m.handOver(7L, 1, backend, owner.ref());
        assertEquals(2, out.size(), "one chunk each for the parameters and the velocity");
        StateChunk c = out.get(0);
        assertEquals(StateKind.HAND_OVER, c.kind());
        assertEquals(OWNER, c.owner());
        assertEquals(4, c.version());
        assertEquals(4, c.optimizerSteps());
        // momentum 0.5: v = 0.5 v + g = {1.125, 1.5}; p = p - v = {3.875, 4.5}
        ChunkedState s = new ChunkedState(c.parts(), 2);
        for (StateChunk piece : out) {
            s.accept(piece.part(), piece.offset(), piece.values(), piece.partDigest());
        }
        assertArrayEquals(new float[] {3.875f, 4.5f}, s.part(0));
        assertArrayEquals(new float[] {1.125f, 1.5f}, s.part(1));
    }
}
