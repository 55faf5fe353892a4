package io.tributary.wire;

import static io.tributary.wire.WireTestSupport.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.dataplane.ContributionSlots;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.protocol.ShardLayout;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Timeout;

/**
 * The product's receive path allocates nothing per frame once warm: a {@link NodeDataPlane}'s own
 * receiver thread polls, reassembles, validates, decodes compressed frames into its scratch buffer,
 * routes to the hosted shard's {@link ContributionSlots} and copies each chunk in. The figure is that thread's allocation, read
 * through ThreadMXBean from the test thread, which sends (to the node's own endpoint) and releases
 * each completed slot as the shard would.
 */
@Timeout(30)
class ReceivePathAllocationTest {

    private NodeDataPlane closeLater;

    @org.junit.jupiter.api.AfterEach
    void closeSender() {
        if (closeLater != null) {
            closeLater.close();
        }
    }

    private static final int FRAMES_PER_STEP = 4;
    private static final int MEASURED_FRAMES = 10_000;
    private static final int MIN_MEASURED_FRAMES = 2_000;
    private static final int TRAINER = 0;
    /**
     * A constant for one-off JVM charges (a few KiB seen here when the JIT recompiles mid-run). Any per-frame
     * allocation costs at least one 16-byte object per frame, 32 KiB or more over the measured frames.
     */
    private static final long ALLOWED_BYTES = 16_384;

    @org.junit.jupiter.params.ParameterizedTest(name = "authenticated frames: {0}, encoding {1}")
    @org.junit.jupiter.params.provider.CsvSource({"false, FLOAT32", "true, FLOAT32", "false, FLOAT16", "false, BFLOAT16",
            "false, INT8", "true, INT8"})
    void nodeReceivePathIntoContributionSlotsAllocatesNothingPerFrameOnceWarm(boolean authenticated, Encoding encoding)
            throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);

        int n = ContributionSlots.CHUNK_FLOATS * FRAMES_PER_STEP - 5;
        ShardLayout layout = new ShardLayout(n, 1);
        Set<Long> threadsBefore = threadIds(null);
        // 8 KiB datagrams: 64 KiB frames still arrive in fragments and are reassembled, in fewer packets.
        try (NodeDataPlane node = new NodeDataPlane(settings().withMtuLength(8192), "127.0.0.1", 0, 1L, TRAINER,
                layout, Duration.ofSeconds(5), authenticated ? FrameAuth.generate() : null)) {
            Set<Long> started = threadIds(NodeDataPlane.RECEIVER_THREAD);
            // A second node sends, so that frames take the UDP path (a node's sends to itself go by IPC).
            NodeDataPlane sender = new NodeDataPlane(settings().withMtuLength(8192), "127.0.0.1", 0, 1L, TRAINER,
                    layout, Duration.ofSeconds(5), authenticated ? FrameAuth.generate() : null);
            closeLater = sender;
            if (authenticated) {
                node.peerJoined(sender.endpoint(), sender.auth().publicKeyText());
                sender.peerJoined(node.endpoint(), node.auth().publicKeyText());
                // the coordinator's quorum says whose trainer id TRAINER is: the grant check runs on every frame
                node.grantTrainers(1, java.util.Map.of(TRAINER, sender.endpoint()));
            }
            started.removeAll(threadsBefore);
            assertEquals(1, started.size(), "one new receiver thread named " + NodeDataPlane.RECEIVER_THREAD);
            long receiverThread = started.iterator().next();

            AtomicLong completedStep = new AtomicLong(-1);
            // The listener runs on the receiver thread: it must not allocate either.
            ContributionSlots slots = new ContributionSlots(n, 1, (trainer, step) -> completedStep.lazySet(step));
            node.hostShard(0, slots);
            float[] gradient = new float[n];
            for (int i = 0; i < n; i++) {
                gradient[i] = i * 0.5f;
            }

            long step = exchange(sender, node, slots, completedStep, gradient, encoding, 0, 500, 3_000_000_000L);
            long before = threads.getThreadAllocatedBytes(receiverThread);
            long framesBefore = node.receiver().framesAccepted();
            step = exchange(sender, node, slots, completedStep, gradient, encoding, step, MEASURED_FRAMES / FRAMES_PER_STEP,
                    6_000_000_000L);
            long allocated = threads.getThreadAllocatedBytes(receiverThread) - before;
            long frames = node.receiver().framesAccepted() - framesBefore;

            assertTrue(before >= 0, "allocation of thread " + receiverThread + " readable");
            // On a loaded machine fewer frames fit the time budget; enough to tell a constant from a per-frame cost.
            assertTrue(frames >= MIN_MEASURED_FRAMES, "only " + frames + " frames measured within the budget");
            assertEquals(0, node.receiver().rejectedTotal());
            assertEquals(0, slots.duplicates() + slots.stale() + slots.unknownSender());
            assertEquals(step, completedStep.get());
            assertTrue(allocated <= ALLOWED_BYTES,
                    allocated + " bytes allocated over " + frames + " frames (" + (double) allocated / frames + " B/frame)");
        }
    }

    /** Live threads named {@code name} (the AgentRunner names its thread after the agent's role); null: all. */
    private static Set<Long> threadIds(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> name == null || t.getName().equals(name))
                .map(Thread::getId)
                .collect(Collectors.toSet());
    }

    /**
     * Sends {@code steps} whole gradients to the node's own endpoint, one at a time: each is awaited and its slot
     * released before the next is sent. Stops early at the time budget; returns the last completed step.
     */
    private static long exchange(NodeDataPlane sender, NodeDataPlane node, ContributionSlots slots, AtomicLong completedStep,
            float[] gradient, Encoding encoding, long step, int steps, long budgetNs) {
        long deadline = System.nanoTime() + budgetNs;
        for (int s = 0; s < steps; s++) {
            if (System.nanoTime() - deadline >= 0) {
                return step;
            }
            step++;
            sender.send(node.endpoint(), FrameType.GRADIENT, TRAINER, 0, 0, step, gradient, 0, gradient.length, encoding,
                    null);
            while (completedStep.get() != step) {
                if (System.nanoTime() - deadline >= 4_000_000_000L) {
                    throw new AssertionError("step " + step + " did not complete within 4 s of the budget");
                }
                Thread.yield();
            }
            slots.release(TRAINER);
        }
        return step;
    }
}
