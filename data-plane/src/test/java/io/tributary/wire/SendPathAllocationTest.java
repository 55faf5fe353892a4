package io.tributary.wire;

import static io.tributary.wire.WireTestSupport.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The send path allocates nothing per frame once warm, whatever the encoding and with error feedback
 * on: {@link FramePublisher} encodes into its one frame buffer and offers it. The figure is the sending
 * (test) thread's own allocation, over IPC to a receiver on a thread of its own.
 */
@Timeout(30)
class SendPathAllocationTest {

    private static final long RUN = 7L;
    private static final int FRAMES_PER_SEND = 4;
    private static final int MEASURED_SENDS = 1_000;
    /** One-off JVM charges (JIT recompiles); any per-frame object would cost 16 bytes x 4,000 frames, 64 KiB. */
    private static final long ALLOWED_BYTES = 16_384;

    @ParameterizedTest
    @EnumSource(Encoding.class)
    void publisherAllocatesNothingPerFrameOnceWarm(Encoding encoding) throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        DataPlane plane = DataPlane.launch(settings());
        AgentRunner runner = null;
        try {
            Subscription subscription = plane.addSubscription(DataPlane.IPC_CHANNEL, 1001);
            ExclusivePublication publication = plane.addPublication(DataPlane.IPC_CHANNEL, 1001);
            FramePublisher publisher = FramePublisher.create(publication, RUN, 0);
            int n = FRAMES_PER_SEND * publisher.maxPayloadFloats() - 3;
            FrameReceiver receiver = new FrameReceiver(subscription, RUN).registerGradients(0, 0, n, new FrameSink() {
                @Override
                public void onGradient(int sender, int shard, int tensor, long step, int elementOffset,
                        DirectBuffer buffer, int payloadOffset, int floatCount) {
                    // taken and dropped: the receive side is measured elsewhere
                }
            });
            runner = new AgentRunner(new BackoffIdleStrategy(), t -> { throw new AssertionError(t); }, null, receiver);
            AgentRunner.startOnThread(runner);
            assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)));
            float[] gradient = new float[n];
            float[] residual = new float[n];

            sendSteps(publisher, encoding, gradient, residual, 300);
            long thread = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(thread);
            long framesBefore = publisher.framesSent();
            sendSteps(publisher, encoding, gradient, residual, MEASURED_SENDS);
            long allocated = threads.getThreadAllocatedBytes(thread) - before;
            long frames = publisher.framesSent() - framesBefore;

            assertEquals((long) MEASURED_SENDS * FRAMES_PER_SEND, frames);
            assertTrue(allocated <= ALLOWED_BYTES, encoding + ": " + allocated + " bytes allocated over " + frames
                    + " frames (" + (double) allocated / frames + " B/frame)");
        } finally {
            CloseHelper.closeAll(runner, plane);
        }
    }

    /** Sends a fresh gradient (refilled in place, as a trainer's backend would) {@code sends} times. */
    private static void sendSteps(FramePublisher publisher, Encoding encoding, float[] gradient, float[] residual,
            int sends) {
        for (int s = 0; s < sends; s++) {
            for (int i = 0; i < gradient.length; i++) {
                gradient[i] = ((i * 31 + s) % 1000 - 500) * 1e-3f;
            }
            publisher.send(FrameType.GRADIENT, 0, 0, s, gradient, 0, gradient.length, 0, encoding, residual);
        }
    }
}
