package io.tributary.ps.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.StateKind;
import io.tributary.protocol.ShardProtocol.RollbackShard;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.ps.optim.Optimizer;
import io.tributary.ps.optim.OptimizerSettings;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ShardTransferTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    /** Two chunks, the second short. */
    private static final int N = ChunkedState.CHUNK_FLOATS + 1000;
    private static final Backend BACKEND = CpuBackend.create();
    private static final OptimizerSettings ADAM = OptimizerSettings.from(
            ConfigFactory.parseString("tributary.optimizer.type = adam").withFallback(ConfigFactory.load()));

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
        BACKEND.close();
    }

    /** A shard's state after a few real Adam steps on random gradients. */
    private static ShardTransfer trained(float[] params, Optimizer opt, long seed, int steps) {
        Random rnd = new Random(seed);
        for (int i = 0; i < params.length; i++) {
            params[i] = rnd.nextFloat();
        }
        float[] g = new float[params.length];
        for (int s = 0; s < steps; s++) {
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) rnd.nextGaussian();
            }
            opt.apply(CpuBackend.wrap(params), CpuBackend.wrap(g));
        }
        return new ShardTransfer(7, 2, "ps-a/1", params, opt, BACKEND, LoggerFactory.getLogger("test"));
    }

    private static float[] download(Tensor t) {
        float[] out = new float[N];
        BACKEND.download(t, out, 0);
        return out;
    }

    @Test
    void aHandedOverStateArrivesWholeInAnyOrder() {
        float[] from = new float[N];
        Optimizer fromOpt = Optimizer.create(ADAM, BACKEND, N);
        ShardTransfer out = trained(from, fromOpt, 1, 3);
        ActorRef<ShardCommand> self = KIT.<ShardCommand>createTestProbe().getRef();
        List<StateChunk> pieces = new java.util.ArrayList<>(out.statePieces(40, self));
        assertEquals(3 * 2, pieces.size(), "parameters and Adam's two moments, two chunks each");
        Collections.shuffle(pieces, new Random(2));
        float[] to = new float[N];
        Optimizer toOpt = Optimizer.create(ADAM, BACKEND, N);
        ShardTransfer in = new ShardTransfer(7, 2, "ps-b/2", to, toOpt, BACKEND, LoggerFactory.getLogger("test"));
        for (int i = 0; i < pieces.size(); i++) {
            assertFalse(in.incomingComplete());
            assertEquals(ChunkedState.Accepted.NEW, in.offer(pieces.get(i)));
            assertEquals(ChunkedState.Accepted.DUPLICATE, in.offer(pieces.get(i)), "a piece sent again");
        }
        assertTrue(in.incomingComplete());
        ShardTransfer.Incoming got = in.installIncoming();
        assertEquals("ps-a/1", got.owner());
        assertEquals(40, got.version());
        assertArrayEquals(from, to);
        assertEquals(3, toOpt.steps());
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(download(fromOpt.state()[i]), download(toOpt.state()[i]), "moment " + i);
        }
    }

    @Test
    void aRollbackRestoresParametersAndOptimizerStateOrResetsTheOptimizer() {
        float[] cut = new float[N];
        Optimizer cutOpt = Optimizer.create(ADAM, BACKEND, N);
        ShardTransfer source = trained(cut, cutOpt, 3, 2);
        float[] live = new float[N];
        Optimizer liveOpt = Optimizer.create(ADAM, BACKEND, N);
        ShardTransfer shard = trained(live, liveOpt, 4, 5);
        ActorRef<CoordinatorCommand> coordinator = KIT.<CoordinatorCommand>createTestProbe().getRef();
        assertTrue(shard.beginRestore(new RollbackShard(7, 1, 30, N, 2, coordinator)));
        assertTrue(shard.restoring());
        // the coordinator sends the cut: the parameters, then the optimizer's moments it kept
        float[][] moments = new float[2][N];
        for (StateChunk piece : source.optimizerPieces(30)) {
            assertEquals(StateKind.OPTIMIZER_CUT, piece.kind());
            System.arraycopy(piece.values(), 0, moments[piece.part()], piece.offset(), piece.values().length);
        }
        List<ChunkedState.Piece> rollback = ChunkedState.cut(new float[][] {cut, moments[0], moments[1]}, new int[3], N);
        assertFalse(shard.restore(new StateChunk(7, 2, StateKind.ROLLBACK, 1, "coordinator", 29, 2, 3, 0, 0,
                rollback.get(0).values(), rollback.get(0).partDigest(), null)), "another version's chunk");
        assertFalse(shard.restore(new StateChunk(7, 2, StateKind.ROLLBACK, 9, "coordinator", 30, 2, 3, 0, 0,
                rollback.get(0).values(), rollback.get(0).partDigest(), null)), "another rollback's chunk");
        for (ChunkedState.Piece p : rollback) {
            assertFalse(shard.restoreComplete());
            assertTrue(shard.restore(new StateChunk(7, 2, StateKind.ROLLBACK, 1, "coordinator", 30, 2, 3, p.part(),
                    p.offset(), p.values(), p.partDigest(), null)));
        }
        assertTrue(shard.restoreComplete());
        assertTrue(shard.installRestore());
        assertFalse(shard.restoring());
        assertArrayEquals(cut, live);
        assertEquals(2, liveOpt.steps());
        assertArrayEquals(download(cutOpt.state()[1]), download(liveOpt.state()[1]));
        // without the optimizer state (none kept at the cut): parameters only, the optimizer from zero
        assertTrue(shard.beginRestore(new RollbackShard(7, 2, 30, N, 0, coordinator)));
        for (ChunkedState.Piece p : ChunkedState.cut(new float[][] {cut}, new int[1], N)) {
            shard.restore(new StateChunk(7, 2, StateKind.ROLLBACK, 2, "coordinator", 30, 0, 1, p.part(), p.offset(),
                    p.values(), p.partDigest(), null));
        }
        assertTrue(shard.restoreComplete());
        assertFalse(shard.installRestore());
        assertEquals(0, liveOpt.steps());
        assertArrayEquals(new float[N], download(liveOpt.state()[0]));
        // an optimizer of another shape (1 vector, not 2): refused, the optimizer starts from zero
        assertFalse(shard.beginRestore(new RollbackShard(7, 3, 30, N, 1, coordinator)));
        // a rollback whose parameters arrive corrupt is not installed: it is taken again
        assertTrue(shard.beginRestore(new RollbackShard(7, 4, 30, N, 0, coordinator)));
        List<ChunkedState.Piece> again = ChunkedState.cut(new float[][] {cut}, new int[1], N);
        float[] flipped = again.get(0).values().clone();
        flipped[0] += 1f;
        shard.restore(new StateChunk(7, 2, StateKind.ROLLBACK, 4, "coordinator", 30, 0, 1, 0, 0, flipped,
                again.get(0).partDigest(), null));
        shard.restore(new StateChunk(7, 2, StateKind.ROLLBACK, 4, "coordinator", 30, 0, 1, 0, again.get(1).offset(),
                again.get(1).values(), again.get(1).partDigest(), null));
        assertFalse(shard.restoreComplete(), "a part that does not match its digest");
        assertTrue(shard.restoring());
    }
}
