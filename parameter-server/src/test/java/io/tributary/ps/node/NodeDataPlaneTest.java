package io.tributary.ps.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.ShardLayout;
import io.tributary.ps.wire.DataPlane;
import io.tributary.ps.wire.FrameType;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NodeDataPlaneTest {

    @Test
    void framesBetweenRolesOfOneNodeGoThroughIpcBitExact() throws Exception {
        int n = 3 * ContributionSlots.CHUNK_FLOATS + 11;
        ShardLayout layout = new ShardLayout(n, 1);
        try (NodeDataPlane node = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0, layout,
                Duration.ofSeconds(5))) {
            CountDownLatch done = new CountDownLatch(1);
            ContributionSlots slots = new ContributionSlots(n, 2, (trainer, step) -> done.countDown());
            node.hostShard(0, slots);
            float[] gradient = new float[n];
            for (int i = 0; i < n; i++) {
                gradient[i] = Float.intBitsToFloat(0x3f000000 + i * 7919);
            }
            node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 5L, gradient, 0, n);
            assertTrue(done.await(10, TimeUnit.SECONDS), "the gradient did not complete its slot");
            assertArrayEquals(gradient, slots.slot(1));
            assertEquals(0, node.receiver().framesAccepted(), "went over UDP");
            assertEquals(4, node.ipcReceiver().framesAccepted(), "4 frames over IPC");
        }
    }

    @Test
    void aCutOffNodeNeitherSendsNorReceivesUntilItHealsAndACapPacesItsSends() throws Exception {
        int n = 2 * ContributionSlots.CHUNK_FLOATS;
        ShardLayout layout = new ShardLayout(n, 1);
        try (NodeDataPlane node = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0, layout,
                Duration.ofSeconds(5))) {
            java.util.concurrent.atomic.AtomicInteger completed = new java.util.concurrent.atomic.AtomicInteger();
            ContributionSlots slots = new ContributionSlots(n, 2, (trainer, step) -> completed.incrementAndGet());
            slots.strictOrder(false);
            node.hostShard(0, slots);
            float[] gradient = new float[n];
            java.util.Arrays.fill(gradient, 0.5f);
            node.cutOff(true);
            node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, gradient, 0, n);
            Thread.sleep(500);
            assertEquals(0, completed.get(), "a cut-off node sent or received a frame");
            node.cutOff(false);
            node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, gradient, 0, n);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (completed.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(1, completed.get(), "after the heal the frames flow again");

            // 8 sends of n floats (4 n bytes each) at a cap of 16 n bytes/s: at least 2 s minus the 50 ms burst
            node.capBandwidth(16L * n);
            long t0 = System.nanoTime();
            for (int i = 0; i < 8; i++) {
                node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, gradient, 0, n);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            node.capBandwidth(0);
            assertTrue(seconds >= 1.9, "the cap did not pace the sends: " + seconds + " s");
        }
    }
}
