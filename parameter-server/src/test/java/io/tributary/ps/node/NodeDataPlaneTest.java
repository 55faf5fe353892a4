package io.tributary.ps.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.ps.shard.ShardLayout;
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
}
