package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.dataplane.ContributionSlots;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.protocol.ShardLayout;
import io.tributary.wire.DataPlane;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GradientPushTest {

    @Test
    void aSliceThatCannotGoOutIsSkippedAndTheOthersAreSent() throws Exception {
        int n = 2000;
        ShardLayout layout = new ShardLayout(n, 2);
        try (NodeDataPlane plane = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0, layout,
                Duration.ofSeconds(5))) {
            CountDownLatch arrived = new CountDownLatch(1);
            ContributionSlots shard1 = new ContributionSlots(layout.length(1), 4, (trainer, step) -> arrived.countDown());
            plane.hostShard(1, shard1);
            ParameterFetch fetch = new ParameterFetch(2);
            fetch.shardAt(0, "not-host-port"); // shard 0 answered from an endpoint nobody can reach
            fetch.shardAt(1, plane.endpoint());
            GradientPush push = new GradientPush(plane, fetch, 3, n);
            float[] g = push.buffer(7);
            for (int i = 0; i < n; i++) {
                g[i] = i;
            }
            TrainerActor.Pushed done = push.send(new GradientPush.Push(7, g, 0.5f, 64, 0, 0, 0, -1));
            assertEquals(2, done.checksums().size(), "both slices' checksums are reported");
            assertTrue(arrived.await(10, TimeUnit.SECONDS), "shard 1's slice went out although shard 0's could not");
            float[] expected = new float[layout.length(1)];
            System.arraycopy(g, layout.offset(1), expected, 0, expected.length);
            assertArrayEquals(expected, shard1.slot(3));
        }
    }
}
