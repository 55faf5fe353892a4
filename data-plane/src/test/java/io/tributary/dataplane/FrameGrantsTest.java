package io.tributary.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.ShardLayout;
import io.tributary.wire.DataPlane;
import io.tributary.wire.FrameAuth;
import io.tributary.wire.FrameType;
import io.tributary.wire.RejectReason;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Frame authorization between real nodes on 127.0.0.1, authentication on: a ps node N hosts shard 0 and
 * the coordinator's quorum gives trainer id 1 to node A and id 2 to node B. The rules come from the
 * trust model (docs/security.md): a trainer node's gradients count for its own id only; parameters come
 * only from ps nodes under their shard's sender id; a liar is blamed once, by endpoint.
 */
@Timeout(120)
class FrameGrantsTest {

    private static final long RUN = 5L;
    private static final int N = 3 * ContributionSlots.CHUNK_FLOATS + 7;
    private final ShardLayout layout = new ShardLayout(N, 1);
    private NodeDataPlane ps;
    private NodeDataPlane a;
    private NodeDataPlane b;
    private ContributionSlots slots;
    private final AtomicInteger completed = new AtomicInteger();
    private final List<String> blamed = new CopyOnWriteArrayList<>();

    private NodeDataPlane node() {
        return new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, RUN, 0, layout, Duration.ofSeconds(5),
                FrameAuth.generate());
    }

    private static void meet(NodeDataPlane x, Set<String> xRoles, NodeDataPlane y, Set<String> yRoles) {
        x.peerJoined(y.endpoint(), y.auth().publicKeyText(), yRoles);
        y.peerJoined(x.endpoint(), x.auth().publicKeyText(), xRoles);
    }

    @BeforeEach
    void cluster() {
        ps = node();
        a = node();
        b = node();
        ps.peerJoined(ps.endpoint(), ps.auth().publicKeyText(), Set.of("ps"));
        meet(ps, Set.of("ps"), a, Set.of("trainer"));
        meet(ps, Set.of("ps"), b, Set.of("trainer"));
        ps.grantTrainers(3, Map.of(1, a.endpoint(), 2, b.endpoint()));
        ps.grants().onOffence((endpoint, reason, what) -> blamed.add(endpoint + " " + reason + ": " + what));
        slots = new ContributionSlots(N, 8, (trainer, step) -> completed.incrementAndGet());
        ps.hostShard(0, slots);
    }

    @AfterEach
    void close() {
        for (NodeDataPlane p : new NodeDataPlane[] {a, b, ps}) {
            if (p != null) {
                p.close();
            }
        }
    }

    private static float[] values(float base) {
        float[] v = new float[N];
        for (int i = 0; i < N; i++) {
            v[i] = base + i;
        }
        return v;
    }

    private long rejected(RejectReason r) {
        return ps.receiver().rejected(r) + ps.ipcReceiver().rejected(r);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(2);
        }
    }

    @Test
    void aTrainerCannotFillAnotherTrainersSlotAndTheOwnersFramesStillCount() throws Exception {
        // 4 frames of B's, signed by B, for A's id 1 at step 0: refused before the slot, B blamed once
        b.send(ps.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, values(-1000f), 0, N);
        // the first frame is the lie; the 3 after it come from a node already caught
        await(() -> rejected(RejectReason.NOT_ITS_ID) == 1 && rejected(RejectReason.CAUGHT_LYING) == 3,
                "B's 4 frames refused");
        assertEquals(List.of(b.endpoint() + " NOT_ITS_ID: sent gradient frames as trainer 1, an id the coordinator"
                + " gave to another node"), blamed);
        // once caught, B's frames under its own id are refused too
        b.send(ps.endpoint(), FrameType.GRADIENT, 2, 0, 0, 0L, values(6f), 0, N);
        await(() -> rejected(RejectReason.CAUGHT_LYING) == 7, "B's own-id frames refused after its lie");
        // A's honest gradient for step 0 fills its slot: nothing of B's was taken as a duplicate chunk
        float[] honest = values(1f);
        a.send(ps.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, honest, 0, N);
        await(() -> completed.get() == 1, "A's gradient completed slot 1");
        assertArrayEquals(honest, slots.slot(1));
        assertEquals(0, slots.duplicates());
    }

    @Test
    void aTrainerCannotVoteThroughAnUnusedSlotId() throws Exception {
        b.send(ps.endpoint(), FrameType.GRADIENT, 2, 0, 0, 0L, values(6f), 0, N); // its own id: taken
        await(() -> completed.get() == 1, "B's own gradient completed slot 2");
        b.send(ps.endpoint(), FrameType.GRADIENT, 7, 0, 0, 0L, values(5f), 0, N);
        await(() -> rejected(RejectReason.NOT_ITS_ID) == 1 && rejected(RejectReason.CAUGHT_LYING) == 3,
                "B's votes as trainer 7 refused");
        assertEquals(1, blamed.size());
        assertTrue(blamed.get(0).contains("as trainer 7, but it holds trainer id 2"), blamed.get(0));
    }

    @Test
    void aTrainerNodeCannotSendParametersAndANodeWithoutTheTrainerRoleCannotSendGradients() throws Exception {
        ParameterAssembler replica = new ParameterAssembler(layout, v -> { });
        ps.hostReplica(NodeDataPlane.TRAINER_REPLICA, replica);
        a.send(ps.endpoint(), FrameType.PARAMETERS, FrameGrants.SHARD_SENDER_BASE, 0, NodeDataPlane.TRAINER_REPLICA,
                1_000_000_000L, values(9f), 0, N);
        await(() -> rejected(RejectReason.NOT_ITS_ROLE) == 1 && rejected(RejectReason.CAUGHT_LYING) == 3,
                "A's parameter frames refused: not a ps node");
        assertEquals(0f, replica.parameters()[0], "nothing of A's reached the replica");
        // the ps node's own gradient (IPC, its own session, role ps only): refused too
        ps.send(ps.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, values(3f), 0, N);
        await(() -> rejected(RejectReason.NOT_ITS_ROLE) == 2 && rejected(RejectReason.CAUGHT_LYING) == 6,
                "gradient from a ps-only node refused");
        // and A, caught, is refused even under its own id
        a.send(ps.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, values(1f), 0, N);
        await(() -> rejected(RejectReason.CAUGHT_LYING) == 10, "A refused after its lie");
        assertEquals(0, completed.get());
        assertEquals(2, blamed.size(), blamed.toString());
    }

    @Test
    void parametersOfAShardUnderAnotherShardsSenderIdAreRefused() throws Exception {
        AtomicInteger ready = new AtomicInteger();
        ParameterAssembler replica = new ParameterAssembler(layout, v -> ready.incrementAndGet());
        ps.hostReplica(NodeDataPlane.COORDINATOR_REPLICA, replica);
        replica.expect(4L);
        try (NodeDataPlane other = node()) {
            meet(ps, Set.of("ps"), other, Set.of("ps"));
            other.send(ps.endpoint(), FrameType.PARAMETERS, FrameGrants.SHARD_SENDER_BASE + 1, 0,
                    NodeDataPlane.COORDINATOR_REPLICA, 4L, values(2f), 0, N);
            await(() -> rejected(RejectReason.NOT_ITS_ID) == 1 && rejected(RejectReason.CAUGHT_LYING) == 3,
                    "parameters under shard 1's sender id refused");
            assertEquals(0, ready.get());
            assertEquals(List.of(other.endpoint() + " NOT_ITS_ID: sent parameter frames of shard 0 under sender id "
                    + (FrameGrants.SHARD_SENDER_BASE + 1) + " (a shard's frames carry " + FrameGrants.SHARD_SENDER_BASE
                    + ")"), blamed);
        }
        float[] right = values(8f);
        ps.send(ps.endpoint(), FrameType.PARAMETERS, FrameGrants.SHARD_SENDER_BASE, 0, NodeDataPlane.COORDINATOR_REPLICA,
                4L, right, 0, N);
        await(() -> ready.get() == 1, "the shard's own parameters made the replica ready");
        assertArrayEquals(right, replica.parameters());
    }

    @Test
    void aTrainerOutsideTheQuorumIsDroppedWithoutBlameAndTakenOnceTheQuorumNamesIt() throws Exception {
        ps.grantTrainers(4, Map.of(1, a.endpoint())); // B left the quorum
        b.send(ps.endpoint(), FrameType.GRADIENT, 2, 0, 0, 0L, values(6f), 0, N);
        await(() -> rejected(RejectReason.NOT_IN_QUORUM) == 4, "B's frames dropped: it holds no id now");
        assertEquals(List.of(), blamed);
        ps.grantTrainers(3, Map.of(1, a.endpoint(), 2, b.endpoint())); // an older generation changes nothing
        b.send(ps.endpoint(), FrameType.GRADIENT, 2, 0, 0, 0L, values(6f), 0, N);
        await(() -> rejected(RejectReason.NOT_IN_QUORUM) == 8, "B's frames still dropped after an older quorum");
        ps.grantTrainers(5, Map.of(1, a.endpoint(), 2, b.endpoint())); // back in
        b.send(ps.endpoint(), FrameType.GRADIENT, 2, 0, 0, 0L, values(6f), 0, N);
        await(() -> completed.get() == 1, "B's gradient taken once the quorum names it again");
        assertEquals(8, rejected(RejectReason.NOT_IN_QUORUM));
        assertEquals(List.of(), blamed);
    }

    /**
     * Issue 15, frame authorization: a replica takes a shard's parameters only from that shard's current owner.
     * Two ps nodes, P (the owner of shard 0) and Q; the receiver is told P owns it. Q's frames, under the right
     * sender id and a high version, are refused as not_owner, without blame (an old owner's frames are in flight
     * after a move), and the shard is marked for a fresh look; P's are taken. While no owner is known (a node just started), any ps
     * node's are taken.
     */
    @Test
    void parametersAreTakenOnlyFromTheShardsCurrentOwner() throws Exception {
        AtomicInteger ready = new AtomicInteger();
        ParameterAssembler replica = new ParameterAssembler(layout, v -> ready.incrementAndGet());
        // the receiver is trainer node A; P is the ps node of the fixture, Q another certified ps node
        a.hostReplica(NodeDataPlane.TRAINER_REPLICA, replica);
        replica.expect(4L);
        try (NodeDataPlane q = node()) {
            meet(a, Set.of("trainer"), q, Set.of("ps"));
            a.grants().owners(new String[] {ps.endpoint()});
            q.send(a.endpoint(), FrameType.PARAMETERS, FrameGrants.SHARD_SENDER_BASE, 0, NodeDataPlane.TRAINER_REPLICA,
                    1_000_000_000L, values(-7f), 0, N);
            await(() -> a.receiver().rejected(RejectReason.NOT_OWNER) == 4, "Q's 4 frames refused: not the owner");
            assertArrayEquals(new int[] {0}, a.grants().takeMissedOwners(), "shard 0 marked for a fresh look");
            assertArrayEquals(new int[0], a.grants().takeMissedOwners(), "and the mark taken");
            assertEquals(0, ready.get());
            assertEquals(0f, replica.parameters()[0], "nothing of Q's reached the replica");
            assertEquals(List.of(), blamed, "refused without blame");
            assertEquals(0, a.receiver().rejected(RejectReason.CAUGHT_LYING));

            float[] right = values(8f);
            ps.send(a.endpoint(), FrameType.PARAMETERS, FrameGrants.SHARD_SENDER_BASE, 0, NodeDataPlane.TRAINER_REPLICA,
                    4L, right, 0, N);
            await(() -> ready.get() == 1, "the owner's parameters made the replica ready");
            assertArrayEquals(right, replica.parameters());

            // the shard moves to Q: from then on Q's frames are taken and P's refused
            a.grants().owners(new String[] {q.endpoint()});
            replica.expect(5L);
            ps.send(a.endpoint(), FrameType.PARAMETERS, FrameGrants.SHARD_SENDER_BASE, 0, NodeDataPlane.TRAINER_REPLICA,
                    5L, values(-3f), 0, N);
            await(() -> a.receiver().rejected(RejectReason.NOT_OWNER) == 8, "P's frames refused after the move");
            float[] moved = values(9f);
            q.send(a.endpoint(), FrameType.PARAMETERS, FrameGrants.SHARD_SENDER_BASE, 0, NodeDataPlane.TRAINER_REPLICA,
                    5L, moved, 0, N);
            await(() -> ready.get() == 2, "the new owner's parameters taken");
            assertArrayEquals(moved, replica.parameters());

            // an owner not learned yet (a node just started): any ps node's parameters pass, as before owners
            a.grants().owners(new String[] {null});
            replica.expect(6L);
            float[] early = values(4f);
            ps.send(a.endpoint(), FrameType.PARAMETERS, FrameGrants.SHARD_SENDER_BASE, 0, NodeDataPlane.TRAINER_REPLICA,
                    6L, early, 0, N);
            await(() -> ready.get() == 3, "parameters of a shard whose owner is not known yet pass");
            assertEquals(8, a.receiver().rejected(RejectReason.NOT_OWNER));
        }
    }
}
