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

    /**
     * int8 with error feedback. Shard 0's first send fails (unreachable endpoint); sent again once the
     * shard is reachable, it must arrive as the values the first push checksummed. Shard 1's slice holds
     * a NaN, which int8 cannot carry: it goes as float32, NaN included, for the shard's checks to see.
     */
    @Test
    void aLossySliceIsRoundedOnceSoItsChecksumHoldsForASendAgainAndANanGoesAsFloat32() throws Exception {
        int n = 2000;
        ShardLayout layout = new ShardLayout(n, 2);
        try (NodeDataPlane plane = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0, layout,
                Duration.ofSeconds(5))) {
            CountDownLatch zero = new CountDownLatch(1);
            CountDownLatch one = new CountDownLatch(1);
            ContributionSlots shard0 = new ContributionSlots(layout.length(0), 4, (trainer, step) -> zero.countDown());
            ContributionSlots shard1 = new ContributionSlots(layout.length(1), 4, (trainer, step) -> one.countDown());
            plane.hostShard(0, shard0);
            plane.hostShard(1, shard1);
            ParameterFetch fetch = new ParameterFetch(2);
            fetch.shardAt(0, "not-host-port");
            fetch.shardAt(1, plane.endpoint());
            GradientPush push = new GradientPush(plane, fetch, 3, n, io.tributary.wire.Encoding.INT8);
            float[] g = push.buffer(7);
            for (int i = 0; i < n; i++) {
                g[i] = (float) Math.sin(i) * 0.01f;
            }
            float[] original = g.clone();
            g[layout.offset(1) + 5] = Float.NaN;
            TrainerActor.Pushed done = push.send(new GradientPush.Push(7, g, 0.5f, 64, 0, 0, 0, -1));
            assertTrue(one.await(10, TimeUnit.SECONDS), "shard 1's slice arrived");
            assertTrue(Float.isNaN(shard1.slot(3)[5]), "the NaN went as float32 and arrived");
            // shard 0's slice was rounded (not sent): int8 of values within 0.01 moves each by under 2^-13
            boolean changed = false;
            for (int i = 0; i < layout.length(0); i++) {
                assertEquals(original[i], g[i], 1.0 / (1 << 13), "value " + i);
                changed |= original[i] != g[i];
            }
            assertTrue(changed, "int8 rounded the slice in place");
            fetch.shardAt(0, plane.endpoint()); // the shard is reachable now and asks again
            push.send(new GradientPush.Push(7, g, 0f, 0, 0, 0, 0, 0));
            assertTrue(zero.await(10, TimeUnit.SECONDS), "shard 0's slice arrived when sent again");
            io.tributary.dataplane.FloatChecksum crc = new io.tributary.dataplane.FloatChecksum();
            assertEquals(done.checksums().get(0).longValue(), crc.of(shard0.slot(3), 0, layout.length(0)),
                    "what shard 0 decoded is what the first push checksummed");
        }
    }
}
