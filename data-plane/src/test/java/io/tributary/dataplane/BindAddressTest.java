package io.tributary.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.ShardLayout;
import io.tributary.wire.DataPlane;
import io.tributary.wire.FrameType;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 18: a data plane that listens on every interface (0.0.0.0, as in a container) announces the address
 * others reach it at, and frames sent there arrive. Real media drivers on 127.0.0.1.
 */
@Timeout(60)
class BindAddressTest {

    private static final int N = 2 * ContributionSlots.CHUNK_FLOATS + 3;

    @Test
    void aPlaneListeningOnEveryInterfaceAnnouncesItsAdvertisedHostAndReceivesThere() throws Exception {
        ShardLayout layout = new ShardLayout(N, 1);
        AtomicInteger completed = new AtomicInteger();
        try (NodeDataPlane listening = new NodeDataPlane(DataPlane.Settings.defaults(), "0.0.0.0", "127.0.0.1", 0, 9L, 0,
                layout, Duration.ofSeconds(5), null, FaultHooks.NONE);
             NodeDataPlane sender = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0, layout,
                     Duration.ofSeconds(5))) {
            assertTrue(listening.endpoint().matches("127\\.0\\.0\\.1:[1-9][0-9]*"), listening.endpoint());
            ContributionSlots slots = new ContributionSlots(N, 4, (trainer, step) -> completed.incrementAndGet());
            listening.hostShard(0, slots);
            float[] g = new float[N];
            for (int i = 0; i < N; i++) {
                g[i] = i * 0.5f;
            }
            sender.send(listening.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, g, 0, N);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (completed.get() < 1) {
                assertTrue(System.nanoTime() < deadline, "the gradient sent to the advertised endpoint arrived");
                Thread.sleep(5);
            }
            assertArrayEquals(g, slots.slot(1));
        }
    }
}
