package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.ChunkedState;
import io.tributary.protocol.StateKind;
import io.tributary.protocol.ShardProtocol.RollbackShard;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StateChunk;
import java.util.List;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class RecoveryTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final long RUN = 7;
    /** Two shards of 35,000 floats: two chunks each, the second one short. */
    private static final ShardLayout LAYOUT = new ShardLayout(70_000, 2);
    private static final int CHUNK = 32 * 1024;

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = rnd.nextFloat();
        }
        return a;
    }

    /** Each shard's optimizer moments at {@code version}, sent in chunks as a shard sends them. */
    private static float[][][] sendOptimizer(Recovery r, Random rnd, long version, int parts) {
        float[][][] moments = new float[2][parts][];
        for (int k = 0; k < 2; k++) {
            for (int p = 0; p < parts; p++) {
                moments[k][p] = random(rnd, LAYOUT.length(k));
            }
            for (ChunkedState.Piece piece : ChunkedState.cut(moments[k], new int[parts], LAYOUT.length(k))) {
                r.optimizerSnapshot(new StateChunk(RUN, k, StateKind.OPTIMIZER_CUT, 0, "ps/" + k, version, 100 + k,
                        parts, piece.part(), piece.offset(), piece.values(), piece.partDigest(), null));
            }
        }
        return moments;
    }

    @Test
    void aRollbackCarriesTheCutAndTheOptimizerStateOfItsStep() {
        Random rnd = new Random(1);
        Recovery r = new Recovery(RUN, LAYOUT);
        r.start(new float[70_000], 0);
        float[] params = random(rnd, 70_000);
        r.takeCut(params, 40);
        float[][][] moments = sendOptimizer(r, rnd, 40, 2);
        assertNotNull(r.optimizerAtCut());
        TestProbe<CoordinatorCommand> coordinator = KIT.createTestProbe();
        assertEquals(1, r.beginRollback(55));
        for (int k = 0; k < 2; k++) {
            List<ShardCommand> msgs = r.rollbackMessages(k, coordinator.getRef());
            RollbackShard order = assertInstanceOf(RollbackShard.class, msgs.get(0));
            assertEquals(40, order.version());
            assertEquals(35_000, order.length());
            assertEquals(2, order.optimizerParts());
            assertEquals(1 + 2 + 2 * 2, msgs.size(), "the order, 2 parameter chunks, 2 chunks of each of 2 moments");
            float[] restored = new float[35_000];
            float[][] opt = new float[2][35_000];
            for (ShardCommand m : msgs.subList(1, msgs.size())) {
                StateChunk c = assertInstanceOf(StateChunk.class, m);
                assertEquals(StateKind.ROLLBACK, c.kind());
                assertEquals(1, c.transfer(), "the rollback's id");
                assertEquals(3, c.parts());
                assertEquals(100 + k, c.optimizerSteps());
                System.arraycopy(c.values(), 0, c.part() == 0 ? restored : opt[c.part() - 1], c.offset(),
                        c.values().length);
            }
            assertArrayEquals(java.util.Arrays.copyOfRange(params, LAYOUT.offset(k), LAYOUT.offset(k) + 35_000), restored);
            assertArrayEquals(moments[k][0], opt[0]);
            assertArrayEquals(moments[k][1], opt[1]);
        }
    }

    @Test
    void withoutTheWholeOptimizerStateTheRollbackRestoresParametersOnly() {
        Random rnd = new Random(2);
        Recovery r = new Recovery(RUN, LAYOUT);
        r.start(random(rnd, 70_000), 0);
        r.takeCut(random(rnd, 70_000), 40);
        // one chunk of shard 1's second moment never came
        for (int k = 0; k < 2; k++) {
            for (ChunkedState.Piece piece : ChunkedState.cut(new float[2][35_000], new int[2], 35_000)) {
                if (!(k == 1 && piece.part() == 1 && piece.offset() == 0)) {
                    r.optimizerSnapshot(new StateChunk(RUN, k, StateKind.OPTIMIZER_CUT, 0, "ps", 40, 3, 2, piece.part(),
                            piece.offset(), piece.values(), piece.partDigest(), null));
                }
            }
        }
        assertNull(r.optimizerAtCut());
        r.beginRollback(41);
        RollbackShard order = (RollbackShard) r.rollbackMessages(0, KIT.<CoordinatorCommand>createTestProbe().getRef()).get(0);
        assertEquals(0, order.optimizerParts());
        // and the state of an older version than the cut, or of another run, is not kept
        Recovery fresh = new Recovery(RUN, LAYOUT);
        fresh.start(new float[70_000], 0);
        fresh.takeCut(new float[70_000], 50);
        sendOptimizer(fresh, rnd, 40, 1);
        assertNull(fresh.optimizerAtCut());
    }

    @Test
    void theRollbackEndsWhenEveryShardAnsweredOnce() {
        Recovery r = new Recovery(RUN, LAYOUT);
        r.start(new float[70_000], 0);
        assertEquals(Recovery.State.SERVING, r.state());
        assertEquals(Recovery.Restored.IGNORED, r.shardRestored(0, 1), "no rollback under way");
        long id = r.beginRollback(12);
        assertTrue(r.rollingBack());
        assertEquals(Recovery.Restored.IGNORED, r.shardRestored(0, id - 1), "an earlier rollback's answer");
        assertEquals(Recovery.Restored.COUNTED, r.shardRestored(0, id));
        assertEquals(Recovery.Restored.IGNORED, r.shardRestored(0, id), "the same shard again");
        assertTrue(r.restored(0));
        assertFalse(r.restored(1));
        assertEquals(Recovery.Restored.IGNORED, r.shardRestored(5, id), "no such shard");
        assertEquals(Recovery.Restored.DONE, r.shardRestored(1, id));
        assertEquals(Recovery.State.SERVING, r.state());
        assertEquals(12, r.rollbackFrom());
        assertEquals(2, r.beginRollback(20), "rollback ids go up");
        assertFalse(r.restored(0), "a new rollback waits for every shard again");
    }

    @Test
    void aHandOverIsReassembledAndPassedOnWhole() {
        Random rnd = new Random(3);
        Recovery r = new Recovery(RUN, LAYOUT);
        TestProbe<ShardCommand> oldOwner = KIT.createTestProbe();
        TestProbe<ShardCommand> newOwner = KIT.createTestProbe();
        float[][] state = {random(rnd, 35_000), random(rnd, 35_000), random(rnd, 35_000)};
        Recovery.HandOver h = null;
        for (ChunkedState.Piece p : ChunkedState.cut(state, new int[3], 35_000)) {
            StateChunk piece = new StateChunk(RUN, 1, StateKind.HAND_OVER, 0, "ps-a", 90, 45, 3, p.part(), p.offset(),
                    p.values(), p.partDigest(), oldOwner.getRef());
            Recovery.HandOver now = r.handOverOf(piece);
            if (h != null) {
                assertSame(h, now, "pieces of one owner and version go to one hand-over");
            }
            h = now;
            assertFalse(h.state.complete());
            h.state.accept(piece.part(), piece.offset(), piece.values(), piece.partDigest());
        }
        assertTrue(h.state.complete());
        assertTrue(h.state.intact());
        List<StateChunk> out = r.handOverMessages(1, h, newOwner.getRef());
        assertEquals(6, out.size());
        float[][] got = new float[3][35_000];
        for (StateChunk s : out) {
            assertEquals(StateKind.HAND_OVER, s.kind());
            assertEquals(90, s.version());
            assertEquals(45, s.optimizerSteps());
            assertEquals("ps-a", s.owner());
            System.arraycopy(s.values(), 0, got[s.part()], s.offset(), s.values().length);
        }
        assertArrayEquals(state, got);
        // another owner's state replaces it; the done hand-over is returned once, for its owner only
        StateChunk other = new StateChunk(RUN, 1, StateKind.HAND_OVER, 0, "ps-b", 91, 46, 1, 0, 0, new float[CHUNK], 0, oldOwner.getRef());
        assertNotSame(h, r.handOverOf(other));
        assertNull(r.handOverDone(1, "ps-a"));
        assertNotNull(r.handOverDone(1, "ps-b"));
        assertNull(r.handOver(1));
    }

    @Test
    void aRollbackDropsHandOversExceptThoseAtTheCut() {
        Recovery r = new Recovery(RUN, LAYOUT);
        r.start(new float[70_000], 0);
        r.takeCut(new float[70_000], 30);
        TestProbe<ShardCommand> owner = KIT.createTestProbe();
        r.handOverOf(new StateChunk(RUN, 0, StateKind.HAND_OVER, 0, "ps-a", 33, 1, 1, 0, 0, new float[CHUNK], 0, owner.getRef()));
        long id = r.beginRollback(35);
        assertEquals(0, r.handOversPending(), "a rollback restores the shards that were moving");
        r.handOverOf(new StateChunk(RUN, 0, StateKind.HAND_OVER, 0, "ps-b", 30, 1, 1, 0, 0, new float[CHUNK], 0, owner.getRef()));
        r.handOverOf(new StateChunk(RUN, 1, StateKind.HAND_OVER, 0, "ps-b", 29, 1, 1, 0, 0, new float[CHUNK], 0, owner.getRef()));
        r.shardRestored(0, id);
        r.shardRestored(1, id);
        assertNotNull(r.handOver(0), "handed over at the cut's version, by a restored shard: kept");
        assertNull(r.handOver(1), "from before the rollback: dropped");
    }
}
