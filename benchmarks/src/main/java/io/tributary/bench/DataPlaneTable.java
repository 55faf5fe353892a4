package io.tributary.bench;

import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.dataplane.ContributionSlots;
import io.tributary.wire.DataPlane;
import io.tributary.wire.FrameAuth;
import io.tributary.wire.FramePublisher;
import io.tributary.wire.FrameReceiver;
import io.tributary.wire.FrameSink;
import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Prints, from one run on this machine, the gradient data plane's figures next to baselines measured
 * in the same run: (b) gradient bytes/s through FramePublisher, FrameReceiver and the shard's
 * ContributionSlots (routed as the node's receiver routes, copied into the trainer's slot) over Aeron
 * UDP on 127.0.0.1 against a plain Aeron offer/poll loop with the same channel settings and message
 * size; (c) the shard's aggregation of T complete slots (fill, T axpy, scale on CpuBackend, as
 * ParameterShard commits a step) against plain Java loops doing the same over the same gradients;
 * (d) bytes allocated per frame on the receiving thread.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
 * -cp benchmarks/target/benchmarks.jar io.tributary.bench.DataPlaneTable [SECONDS]} (or
 * {@code scripts/bench-dataplane.sh}). Every measurement is bounded in time.
 */
public final class DataPlaneTable {

    private static final long RUN = 1L;
    private static final int GRADIENT_FLOATS = 1 << 20; // 4 MiB per step and sender

    private DataPlaneTable() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2.0;
        DataPlane.requireUnsafeAccess();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        threads.setThreadAllocatedMemoryEnabled(true);
        Path base = Paths.get("/dev/shm").toFile().canWrite() ? Paths.get("/dev/shm")
                : Paths.get(System.getProperty("java.io.tmpdir"));
        System.out.println("# Tributary data-plane table: " + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                + ", driver dirs in " + base + ", " + seconds + " s per measurement");

        System.out.printf(Locale.ROOT, "%n(b) Gradients of %d floats (%d MiB) per step over Aeron UDP 127.0.0.1, "
                + "shared-threading driver per side, %d-byte frames as the product sends them%n%n", GRADIENT_FLOATS,
                GRADIENT_FLOATS * 4 / (1 << 20), FramePublisher.DEFAULT_MAX_FRAME_LENGTH);
        System.out.println("| MTU | frame bytes | pipeline MB/s | raw Aeron MB/s | pipeline / raw | "
                + "receive-path bytes allocated / frame (d) |");
        System.out.println("|---|---|---|---|---|---|");
        // ContributionSlots indexes chunks by the product's frame size, so every row sends 64 KiB frames;
        // only the datagram size changes (65504: a frame is two datagrams).
        int frameLength = FramePublisher.DEFAULT_MAX_FRAME_LENGTH;
        for (int mtu : new int[] {1408, 8192, 65504}) {
            DataPlane.Settings settings = DataPlane.Settings.defaults().withBaseDirectory(base).withMtuLength(mtu);
            try (DataPlane sender = DataPlane.launch(settings); DataPlane receiver = DataPlane.launch(settings)) {
                String channel = DataPlane.udpChannel("127.0.0.1", freeUdpPort());
                PipelineResult pipeline = pipeline(sender, receiver, channel, 10, frameLength, seconds, threads, false);
                double raw = rawAeron(sender, receiver, channel, 20, frameLength, seconds);
                System.out.printf(Locale.ROOT, "| %d | %d | %.0f | %.0f | %.2f | %.3f (%d B over %,d frames) |%n",
                        mtu, frameLength, pipeline.bytesPerSecond / 1e6, raw / 1e6, pipeline.bytesPerSecond / raw,
                        (double) pipeline.allocatedBytes / pipeline.frames, pipeline.allocatedBytes, pipeline.frames);
            }
        }
        System.out.println("\n(pipeline: gradient payload bytes copied into the trainer's contribution slot per second, "
                + "sender to completed slot, the slot released on completion; raw: message bytes of the same size "
                + "through offer/poll per second; (d): ThreadMXBean allocation of the receiving agent thread over "
                + "the measured interval)");

        System.out.printf(Locale.ROOT, "%n(e) Authenticated frames (tributary.data-plane.authenticate): the (b) pipeline at MTU "
                + "65504 with every frame signed (sequence, session, HMAC-SHA-256) and verified before the slot, against "
                + "unsigned frames, alternating, same run%n%n");
        System.out.println("| round | unsigned MB/s | signed MB/s | signed / unsigned | signed: receive-path bytes allocated / frame |");
        System.out.println("|---|---|---|---|---|");
        DataPlane.Settings authSettings = DataPlane.Settings.defaults().withBaseDirectory(base).withMtuLength(65504);
        for (int round = 1; round <= 3; round++) {
            try (DataPlane sender = DataPlane.launch(authSettings); DataPlane receiver = DataPlane.launch(authSettings)) {
                String channel = DataPlane.udpChannel("127.0.0.1", freeUdpPort());
                PipelineResult plain = pipeline(sender, receiver, channel, 30, frameLength, seconds, threads, false);
                PipelineResult signed = pipeline(sender, receiver, channel, 40, frameLength, seconds, threads, true);
                System.out.printf(Locale.ROOT, "| %d | %.0f | %.0f | %.2f | %.3f (%d B over %,d frames) |%n", round,
                        plain.bytesPerSecond / 1e6, signed.bytesPerSecond / 1e6,
                        signed.bytesPerSecond / plain.bytesPerSecond, (double) signed.allocatedBytes / signed.frames,
                        signed.allocatedBytes, signed.frames);
            }
        }
        System.out.println("\n(signed: the sender signs each 64 KiB frame on its sending thread, the receiver verifies it on "
                + "its receiver thread before the slot; both copy the frame once into a scratch array for SHA-256)");

        CpuBackend backend = CpuBackend.create();
        System.out.printf(Locale.ROOT, "%n(c) Shard aggregation of T complete slots: fill(sum, 0); for t: axpy(1, slot_t, sum);"
                + " scale(1/T) on %s, against plain Java loops (zero; acc[i] += g[i] per gradient; acc[i] *= 1/T)%n%n",
                backend.description());
        System.out.println("| T | floats per slot | CpuBackend GB/s | plain loops GB/s | CpuBackend / plain |");
        System.out.println("|---|---|---|---|---|");
        for (int trainers : new int[] {2, 8}) {
            for (int n : new int[] {ContributionSlots.CHUNK_FLOATS, 1 << 20, 16 << 20}) {
                float[][] slots = gradients(trainers, n);
                double viaBackend = backendAggregationBytesPerSecond(backend, slots, seconds);
                double plain = plainAggregationBytesPerSecond(slots, seconds);
                System.out.printf(Locale.ROOT, "| %d | %,d | %.1f | %.1f | %.2f |%n", trainers, n, viaBackend / 1e9,
                        plain / 1e9, viaBackend / plain);
            }
        }
        System.out.println("\n(GB/s counts gradient bytes aggregated per second, T * floats * 4 bytes per step; "
                + "the zeroing and scaling of the sum are part of each step)");
    }

    private record PipelineResult(double bytesPerSecond, long frames, long allocatedBytes) {
    }

    private static PipelineResult pipeline(DataPlane senderPlane, DataPlane receiverPlane, String channel, int stream,
            int frameLength, double seconds, com.sun.management.ThreadMXBean threads, boolean authenticated)
            throws Exception {
        Subscription subscription = receiverPlane.addSubscription(channel, stream);
        ExclusivePublication publication = senderPlane.addPublication(channel, stream);
        FrameAuth.Signer signer = null;
        FrameAuth.Verifier verifier = null;
        if (authenticated) {
            FrameAuth senderAuth = FrameAuth.generate();
            FrameAuth receiverAuth = FrameAuth.generate();
            senderAuth.addPeer("receiver", receiverAuth.publicKeyText());
            receiverAuth.addPeer("sender", senderAuth.publicKeyText());
            signer = senderAuth.signerFor("receiver");
            verifier = receiverAuth.newVerifier();
        }
        FramePublisher publisher = new FramePublisher(publication, RUN, 0, frameLength, Duration.ofSeconds(5),
                new BackoffIdleStrategy(), null, signer);
        AtomicLong completedSteps = new AtomicLong();
        ContributionSlots[] holder = new ContributionSlots[1];
        ContributionSlots slots = new ContributionSlots(GRADIENT_FLOATS, 1, (trainer, step) -> {
            // The trainer's gradient is complete: free its slot at once, as if the shard had applied it already.
            holder[0].release(trainer);
            completedSteps.lazySet(step);
        });
        holder[0] = slots;
        FrameReceiver receiver = new FrameReceiver(subscription, RUN, FrameReceiver.DEFAULT_FRAGMENT_LIMIT, "receiver",
                verifier).registerGradients(0, 0, GRADIENT_FLOATS, new SlotRouter(slots));
        AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), DataPlaneTable::agentFailed, null, receiver);
        AgentRunner.startOnThread(runner);
        try {
            if (!DataPlane.awaitConnected(publication, Duration.ofSeconds(5))) {
                throw new IllegalStateException("UDP publication on " + channel + " did not connect in 5 s");
            }
            float[] gradient = new float[GRADIENT_FLOATS];
            SplittableRandom rnd = new SplittableRandom(7);
            for (int i = 0; i < gradient.length; i++) {
                gradient[i] = (float) rnd.nextDouble(-1, 1);
            }
            long step = 1;
            step = sendFor(publisher, gradient, step, Math.min(1.0, seconds)); // warm-up
            awaitSteps(completedSteps, step - 1);

            long receiverThread = runner.thread().getId();
            long framesBefore = receiver.framesAccepted();
            long allocatedBefore = threads.getThreadAllocatedBytes(receiverThread);
            long stepsBefore = step - 1;
            long start = System.nanoTime();
            step = sendFor(publisher, gradient, step, seconds);
            awaitSteps(completedSteps, step - 1);
            long elapsed = System.nanoTime() - start;
            long allocated = threads.getThreadAllocatedBytes(receiverThread) - allocatedBefore;
            long frames = receiver.framesAccepted() - framesBefore;
            double bytes = (double) (step - 1 - stepsBefore) * GRADIENT_FLOATS * Float.BYTES;
            return new PipelineResult(bytes / (elapsed / 1e9), frames, allocated);
        } finally {
            CloseHelper.close(runner);
            CloseHelper.closeAll(publication, subscription);
        }
    }

    /** Hands gradient chunks to the shard's slots as NodeDataPlane's receiver routes them: sender id = trainer. */
    private static final class SlotRouter implements FrameSink {
        private final ContributionSlots slots;

        SlotRouter(ContributionSlots slots) {
            this.slots = slots;
        }

        @Override
        public void onGradient(int sender, int shard, int tensor, long step, int elementOffset, DirectBuffer buffer,
                               int payloadOffset, int floatCount) {
            slots.onChunk(sender, step, elementOffset, buffer, payloadOffset, floatCount);
        }
    }

    /** Sends whole gradients, step after step, for about {@code seconds}; returns the next step to send. */
    private static long sendFor(FramePublisher publisher, float[] gradient, long step, double seconds) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() - deadline < 0) {
            publisher.sendGradient(0, 0, step, gradient, 0, gradient.length);
            step++;
        }
        return step;
    }

    private static void awaitSteps(AtomicLong completed, long steps) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (completed.get() < steps) {
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException("receiver completed " + completed.get() + " of " + steps
                        + " steps within 10 s of the sender finishing");
            }
            Thread.sleep(0, 100_000);
        }
    }

    /** Counts message bytes polled; the raw baseline's receive side. */
    private static final class CountingAgent implements Agent {
        private final Subscription subscription;
        private final AtomicLong messages = new AtomicLong();
        private final FragmentAssembler assembler = new FragmentAssembler((buffer, offset, length, header) ->
                messages.lazySet(messages.get() + 1));

        CountingAgent(Subscription subscription) {
            this.subscription = subscription;
        }

        @Override
        public int doWork() {
            return subscription.poll(assembler, FrameReceiver.DEFAULT_FRAGMENT_LIMIT);
        }

        @Override
        public String roleName() {
            return "raw-aeron-counter";
        }
    }

    private static double rawAeron(DataPlane senderPlane, DataPlane receiverPlane, String channel, int stream,
            int messageLength, double seconds) throws Exception {
        Subscription subscription = receiverPlane.addSubscription(channel, stream);
        ExclusivePublication publication = senderPlane.addPublication(channel, stream);
        CountingAgent counter = new CountingAgent(subscription);
        AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), DataPlaneTable::agentFailed, null, counter);
        AgentRunner.startOnThread(runner);
        try {
            if (!DataPlane.awaitConnected(publication, Duration.ofSeconds(5))) {
                throw new IllegalStateException("UDP publication on " + channel + " did not connect in 5 s");
            }
            UnsafeBuffer message = new UnsafeBuffer(BufferUtil.allocateDirectAligned(messageLength, 64));
            IdleStrategy idle = new BackoffIdleStrategy();
            long sent = offerFor(publication, message, messageLength, idle, Math.min(1.0, seconds)); // warm-up
            awaitMessages(counter.messages, sent);
            long before = sent;
            long start = System.nanoTime();
            sent += offerFor(publication, message, messageLength, idle, seconds);
            awaitMessages(counter.messages, sent);
            long elapsed = System.nanoTime() - start;
            return (double) (sent - before) * messageLength / (elapsed / 1e9);
        } finally {
            CloseHelper.close(runner);
            CloseHelper.closeAll(publication, subscription);
        }
    }

    private static long offerFor(Publication publication, UnsafeBuffer message, int length, IdleStrategy idle,
            double seconds) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long sent = 0;
        while (System.nanoTime() - deadline < 0) {
            long result = publication.offer(message, 0, length);
            if (result > 0) {
                sent++;
                idle.reset();
            } else if (result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION) {
                idle.idle();
            } else if (result == Publication.NOT_CONNECTED) {
                throw new IllegalStateException("raw publication lost its subscriber (NOT_CONNECTED)");
            } else if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                throw new IllegalStateException("raw publication unusable: " + FramePublisher.offerResultName(result));
            }
        }
        return sent;
    }

    private static void awaitMessages(AtomicLong received, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (received.get() < expected) {
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException("received " + received.get() + " of " + expected + " messages in 10 s");
            }
            Thread.sleep(0, 100_000);
        }
    }

    private static float[][] gradients(int trainers, int n) {
        SplittableRandom rnd = new SplittableRandom(3);
        float[][] g = new float[trainers][n];
        for (float[] slot : g) {
            for (int i = 0; i < n; i++) {
                slot[i] = (float) rnd.nextDouble(-1, 1);
            }
        }
        return g;
    }

    /** One aggregation step, as ParameterShard commits one: zero the sum, add every slot, average. */
    private interface Aggregation {
        void run();
    }

    /** Runs {@code step} for about {@code seconds} after up to a second of warm-up; gradient bytes per second. */
    private static double bytesPerSecond(Aggregation step, long bytesPerStep, double seconds) {
        long warmEnd = System.nanoTime() + (long) (Math.min(1.0, seconds) * 1e9);
        while (System.nanoTime() - warmEnd < 0) {
            step.run();
        }
        long steps = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long now;
        do {
            step.run();
            steps++;
            now = System.nanoTime();
        } while (now - end < 0);
        return (double) steps * bytesPerStep / ((now - start) / 1e9);
    }

    private static double backendAggregationBytesPerSecond(CpuBackend backend, float[][] slots, double seconds) {
        int n = slots[0].length;
        Tensor[] slotTensors = new Tensor[slots.length];
        for (int t = 0; t < slots.length; t++) {
            slotTensors[t] = CpuBackend.wrap(slots[t]);
        }
        Tensor sum = backend.allocate(n);
        float[] out = new float[n];
        float inverse = 1f / slots.length;
        double rate = bytesPerSecond(() -> {
            backend.fill(sum, 0f);
            for (Tensor slot : slotTensors) {
                backend.axpy(1f, slot, sum);
            }
            backend.scale(inverse, sum);
        }, (long) slots.length * n * Float.BYTES, seconds);
        backend.download(sum, out, 0);
        sink += out[n / 2];
        return rate;
    }

    private static double plainAggregationBytesPerSecond(float[][] slots, double seconds) {
        int n = slots[0].length;
        float[] acc = new float[n];
        float inverse = 1f / slots.length;
        double rate = bytesPerSecond(() -> {
            Arrays.fill(acc, 0f);
            for (float[] g : slots) {
                addPlain(acc, g, n);
            }
            for (int i = 0; i < n; i++) {
                acc[i] *= inverse;
            }
        }, (long) slots.length * n * Float.BYTES, seconds);
        sink += acc[n / 2];
        return rate;
    }

    private static void addPlain(float[] acc, float[] g, int n) {
        for (int i = 0; i < n; i++) {
            acc[i] += g[i];
        }
    }

    /** Keeps results live so the JIT cannot drop the loops. */
    static volatile float sink;

    private static int freeUdpPort() throws Exception {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    /** An agent's error ends the measurement loudly instead of printing a stack trace. */
    private static void agentFailed(Throwable t) {
        org.slf4j.LoggerFactory.getLogger(DataPlaneTable.class).error("data-plane benchmark agent failed", t);
        throw new IllegalStateException("data-plane benchmark agent failed: " + t, t);
    }
}
