package io.tributary.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.ShardLayout;
import io.tributary.wire.DataPlane;
import io.tributary.wire.Encoding;
import io.tributary.wire.FrameType;
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
            // the receiver counts a frame after handing it to the slot: the count may trail the latch briefly
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (node.ipcReceiver().framesAccepted() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(4, node.ipcReceiver().framesAccepted(), "4 frames over IPC");
        }
    }

    /**
     * An int8 gradient with error feedback through the node: src afterwards is what the shard's slot holds,
     * and the node counts the frame bytes that went out and paces by their payload. By hand: 2 full frames of
     * 16364 values; float32 would be 2 x (80 + 65456) = 131072 bytes, int8 is 2 x (80 + 4 + 16364) = 32896,
     * of which 32736 payload.
     */
    @Test
    void compressedSendsCountTheirFrameBytesAndArriveAsTheSenderDecodedThem() throws Exception {
        int n = 2 * ContributionSlots.CHUNK_FLOATS;
        ShardLayout layout = new ShardLayout(n, 1);
        SwitchedFaults faults = new SwitchedFaults();
        try (NodeDataPlane node = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0, layout,
                Duration.ofSeconds(5), null, faults)) {
            CountDownLatch[] done = {new CountDownLatch(1)};
            ContributionSlots slots = new ContributionSlots(n, 2, (trainer, step) -> done[0].countDown());
            node.hostShard(0, slots);
            float[] gradient = new float[n];
            for (int i = 0; i < n; i++) {
                gradient[i] = (i % 201 - 100) * 0.0123f;
            }
            float[] residual = new float[n];
            node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 5L, gradient, 0, n, Encoding.INT8, residual);
            assertTrue(done[0].await(10, TimeUnit.SECONDS), "the gradient did not complete its slot");
            assertArrayEquals(gradient, slots.slot(1), "the slot holds what the sender's src holds after the send");
            assertEquals(32_896, node.bytesSent());
            assertEquals(32_736, faults.paced.get());

            slots.release(1);
            done[0] = new CountDownLatch(1);
            node.sendIfConnected(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 6L, gradient, 0, n);
            assertTrue(done[0].await(10, TimeUnit.SECONDS));
            assertEquals(32_896 + 131_072, node.bytesSent(), "float32 frames are 64 KiB each");
            assertEquals(32_736 + 130_912, faults.paced.get());
        }
    }

    @Test
    void aPeerThatLeftHasItsPublicationsClosedAndASendLaterOpensANewOne() throws Exception {
        int n = ContributionSlots.CHUNK_FLOATS;
        ShardLayout layout = new ShardLayout(n, 1);
        try (NodeDataPlane node = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0, layout,
                Duration.ofSeconds(5))) {
            CountDownLatch[] done = {new CountDownLatch(1)};
            ContributionSlots slots = new ContributionSlots(n, 2, (trainer, step) -> done[0].countDown());
            node.hostShard(0, slots);
            float[] gradient = new float[n];
            node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 5L, gradient, 0, n);
            assertTrue(done[0].await(10, TimeUnit.SECONDS));
            java.util.List<io.aeron.Publication> before = node.publicationsTo(node.endpoint());
            assertEquals(1, before.size());
            node.forget(node.endpoint());
            assertTrue(before.get(0).isClosed(), "the dropped publication is closed, its log buffer freed");
            assertEquals(0, node.publicationsTo(node.endpoint()).size(), "the publication is dropped");
            slots.release(1);
            done[0] = new CountDownLatch(1);
            node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 6L, gradient, 0, n);
            assertTrue(done[0].await(10, TimeUnit.SECONDS), "a send after forget opens a new publication");
            assertEquals(1, node.publicationsTo(node.endpoint()).size());
        }
    }

    /** Faults a test switches: a cut that drops sends or receives (or both), and the bytes paced. */
    private static final class SwitchedFaults implements FaultHooks {
        volatile boolean sendsCut;
        volatile boolean receivesCut;
        final java.util.concurrent.atomic.AtomicLong paced = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public boolean isCutOff() {
            return Thread.currentThread().getName().equals(NodeDataPlane.RECEIVER_THREAD) ? receivesCut : sendsCut;
        }

        @Override
        public void pace(long bytes) {
            paced.addAndGet(bytes);
        }
    }

    @Test
    void aCutDropsSendsAndReceivesUntilItEndsAndEverySendIsPaced() throws Exception {
        int n = 2 * ContributionSlots.CHUNK_FLOATS;
        ShardLayout layout = new ShardLayout(n, 1);
        SwitchedFaults faults = new SwitchedFaults();
        try (NodeDataPlane node = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 9L, 0, layout,
                Duration.ofSeconds(5), null, faults)) {
            java.util.concurrent.atomic.AtomicInteger completed = new java.util.concurrent.atomic.AtomicInteger();
            ContributionSlots slots = new ContributionSlots(n, 2, (trainer, step) -> completed.incrementAndGet());
            slots.strictOrder(false);
            node.hostShard(0, slots);
            float[] gradient = new float[n];
            java.util.Arrays.fill(gradient, 0.5f);

            faults.sendsCut = true;
            node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, gradient, 0, n);
            assertEquals(0, faults.paced.get(), "a send dropped by the cut is not paced");
            faults.sendsCut = false;
            faults.receivesCut = true;
            node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, gradient, 0, n);
            assertEquals(4L * n, faults.paced.get(), "the send went out and was paced by its payload bytes");
            Thread.sleep(500);
            assertEquals(0, completed.get(), "a cut-off node sent or received a frame");
            assertEquals(2, node.ipcReceiver().framesAccepted(), "the frames came in and were dropped");

            faults.receivesCut = false;
            node.send(node.endpoint(), FrameType.GRADIENT, 1, 0, 0, 0L, gradient, 0, n);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (completed.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(1, completed.get(), "after the heal the frames flow again");
            assertEquals(8L * n, faults.paced.get());
        }
    }
}
