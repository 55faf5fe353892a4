package io.tributary.ps.wire;

import static io.tributary.ps.wire.WireTestSupport.freeUdpPort;
import static io.tributary.ps.wire.WireTestSupport.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The receive path (poll, reassembly, validation, accumulation) allocates nothing per frame once
 * warm. Sender and receiver share the test thread, so the figure covers the send path too.
 */
@Timeout(30)
class ReceivePathAllocationTest {

    private static final int FRAMES_PER_STEP = 4;
    private static final int MEASURED_FRAMES = 10_000;
    private static final int MIN_MEASURED_FRAMES = 2_000;
    /**
     * A constant for one-off JVM charges (a few KiB seen here when the JIT recompiles mid-run). Any per-frame
     * allocation costs at least one 16-byte object per frame, 32 KiB or more over the measured frames.
     */
    private static final long ALLOWED_BYTES = 16_384;

    @Test
    void receivePathAllocatesNothingPerFrameOnceWarm() throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);

        // 8 KiB datagrams: 64 KiB frames still arrive in fragments and are reassembled, in fewer packets.
        DataPlane sender = DataPlane.launch(settings().withMtuLength(8192));
        DataPlane receiverPlane = DataPlane.launch(settings().withMtuLength(8192));
        try {
            String channel = DataPlane.udpChannel("127.0.0.1", freeUdpPort());
            Subscription subscription = receiverPlane.addSubscription(channel, 7);
            ExclusivePublication publication = sender.addPublication(channel, 7);
            FramePublisher publisher = FramePublisher.create(publication, 1L, 0);
            int n = publisher.maxPayloadFloats() * FRAMES_PER_STEP - 5;
            float[] gradient = new float[n];
            for (int i = 0; i < n; i++) {
                gradient[i] = i * 0.5f;
            }
            GradientAccumulator acc = new GradientAccumulator(0, 0, n, 1, publisher.maxPayloadFloats(), null);
            FrameReceiver receiver = new FrameReceiver(subscription, 1L).registerGradients(0, 0, n, acc);
            assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)));

            long step = 0;
            step = exchange(publisher, receiver, acc, gradient, step, 500, 3_000_000_000L);
            long before = threads.getCurrentThreadAllocatedBytes();
            long stepsBefore = step;
            step = exchange(publisher, receiver, acc, gradient, step, MEASURED_FRAMES / FRAMES_PER_STEP,
                    6_000_000_000L);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            long frames = (step - stepsBefore) * FRAMES_PER_STEP;

            // On a loaded machine fewer frames fit the time budget; enough to tell a constant from a per-frame cost.
            assertTrue(frames >= MIN_MEASURED_FRAMES, "only " + frames + " frames measured within the budget");
            assertEquals(0, receiver.rejectedTotal());
            assertTrue(allocated <= ALLOWED_BYTES,
                    allocated + " bytes allocated over " + frames + " frames (" + (double) allocated / frames + " B/frame)");
        } finally {
            CloseHelper.closeAll(sender, receiverPlane);
        }
    }

    /** Sends and receives {@code steps} whole gradients on this thread; stops early at the time budget. */
    private static long exchange(FramePublisher publisher, FrameReceiver receiver, GradientAccumulator acc,
            float[] gradient, long step, int steps, long budgetNs) {
        long deadline = System.nanoTime() + budgetNs;
        for (int s = 0; s < steps; s++) {
            step++;
            acc.beginStep(step);
            publisher.sendGradient(0, 0, step, gradient, 0, gradient.length);
            while (acc.completedSenders() < 1) {
                if (receiver.doWork() == 0 && System.nanoTime() - deadline >= 0) {
                    return step - 1;
                }
            }
        }
        return step;
    }
}
