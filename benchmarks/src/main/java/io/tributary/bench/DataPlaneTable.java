package io.tributary.bench;

import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.tributary.ps.wire.DataPlane;
import io.tributary.ps.wire.FrameHeader;
import io.tributary.ps.wire.FramePublisher;
import io.tributary.ps.wire.FrameReceiver;
import io.tributary.ps.wire.GradientAccumulator;
import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Prints, from one run on this machine, the gradient data plane's figures next to baselines measured
 * in the same run: (b) gradient bytes/s through FramePublisher, FrameReceiver and GradientAccumulator
 * over Aeron UDP on 127.0.0.1 against a plain Aeron offer/poll loop with the same channel settings and
 * message size; (c) GradientAccumulator's aggregation bytes/s against a plain {@code acc[i] += g[i]}
 * loop; (d) bytes allocated per frame on the receiving thread.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
 * -cp benchmarks/target/benchmarks.jar io.tributary.bench.DataPlaneTable [SECONDS]} (or
 * {@code scripts/bench-dataplane.sh}). Every measurement is bounded in time.
 */
public final class DataPlaneTable {

    private static final long RUN = 1L;
    private static final int GRADIENT_FLOATS = 1 << 20; // 4 MiB per step and sender
    private static final int MAX_SENDERS = 8;

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

        System.out.printf(Locale.ROOT, "%n(c) Aggregation, %d senders per step (the step's zeroing included), "
                + "chunks of %d floats from an off-heap buffer%n%n", MAX_SENDERS, (64 * 1024 - FrameHeader.HEADER_LENGTH) / 4);
        System.out.println("| floats | GradientAccumulator GB/s | plain acc[i] += g[i] GB/s | accumulator / plain |");
        System.out.println("|---|---|---|---|");
        for (int n : new int[] {16_368, 1 << 20, 16 << 20}) {
            double acc = accumulatorBytesPerSecond(n, seconds);
            double plain = plainBytesPerSecond(n, seconds);
            System.out.printf(Locale.ROOT, "| %,d | %.1f | %.1f | %.2f |%n", n, acc / 1e9, plain / 1e9, acc / plain);
        }
        System.out.println("\n(GB/s counts gradient bytes read per second, 4 bytes per element and sender. Run first:"
                + " it also gets the accumulator's Vector API loop compiled by C2 before (b) and (d), since"
                + " interpreted Vector API code allocates a box per vector)");
        System.out.printf(Locale.ROOT, "%n(b) Gradients of %d floats (%d MiB) per step over Aeron UDP 127.0.0.1, "
                + "shared-threading driver per side%n%n", GRADIENT_FLOATS, GRADIENT_FLOATS * 4 / (1 << 20));
        System.out.println("| MTU | frame bytes | pipeline MB/s | raw Aeron MB/s | pipeline / raw | "
                + "receive-path bytes allocated / frame (d) |");
        System.out.println("|---|---|---|---|---|---|");
        int[][] rows = {{1408, 64 * 1024}, {8192, 64 * 1024}, {65504, 65504 - 32}};
        for (int[] row : rows) {
            DataPlane.Settings settings = DataPlane.Settings.defaults().withBaseDirectory(base).withMtuLength(row[0]);
            try (DataPlane sender = DataPlane.launch(settings); DataPlane receiver = DataPlane.launch(settings)) {
                String channel = DataPlane.udpChannel("127.0.0.1", freeUdpPort());
                PipelineResult pipeline = pipeline(sender, receiver, channel, 10, row[1], seconds, threads);
                double raw = rawAeron(sender, receiver, channel, 20, row[1], seconds);
                System.out.printf(Locale.ROOT, "| %d | %d | %.0f | %.0f | %.2f | %.3f (%d B over %,d frames) |%n",
                        row[0], row[1], pipeline.bytesPerSecond / 1e6, raw / 1e6, pipeline.bytesPerSecond / raw,
                        (double) pipeline.allocatedBytes / pipeline.frames, pipeline.allocatedBytes, pipeline.frames);
            }
        }
        System.out.println("\n(pipeline: gradient payload bytes summed into the shard's accumulator per second, "
                + "sender to completed step; raw: message bytes of the same size through offer/poll per second; "
                + "(d): ThreadMXBean allocation of the receiving agent thread over the measured interval)");

    }

    private record PipelineResult(double bytesPerSecond, long frames, long allocatedBytes) {
    }

    private static PipelineResult pipeline(DataPlane senderPlane, DataPlane receiverPlane, String channel, int stream,
            int frameLength, double seconds, com.sun.management.ThreadMXBean threads) throws Exception {
        Subscription subscription = receiverPlane.addSubscription(channel, stream);
        ExclusivePublication publication = senderPlane.addPublication(channel, stream);
        FramePublisher publisher = new FramePublisher(publication, RUN, 0, frameLength, Duration.ofSeconds(5),
                new BackoffIdleStrategy(), null);
        AtomicLong completedSteps = new AtomicLong();
        GradientAccumulator[] holder = new GradientAccumulator[1];
        GradientAccumulator accumulator = new GradientAccumulator(0, 0, GRADIENT_FLOATS, 1,
                publisher.maxPayloadFloats(), sender -> {
                    // The sender's step is complete: open the next one, as the shard would after applying it.
                    long done = completedSteps.get() + 1;
                    holder[0].beginStep(done + 1);
                    completedSteps.lazySet(done);
                });
        holder[0] = accumulator;
        accumulator.beginStep(1);
        FrameReceiver receiver = new FrameReceiver(subscription, RUN).registerGradients(0, 0, GRADIENT_FLOATS,
                accumulator);
        AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, receiver);
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
        AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, counter);
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

    private static double accumulatorBytesPerSecond(int n, double seconds) {
        int chunk = (64 * 1024 - FrameHeader.HEADER_LENGTH) / Float.BYTES;
        UnsafeBuffer payload = new UnsafeBuffer(BufferUtil.allocateDirectAligned(n * Float.BYTES, 64));
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            payload.putFloat(i * Float.BYTES, (float) rnd.nextDouble(-1, 1), ByteOrder.LITTLE_ENDIAN);
        }
        GradientAccumulator acc = new GradientAccumulator(0, 0, n, MAX_SENDERS, chunk, null);
        long step = 0;
        long passes = 0;
        long start = 0;
        long warmEnd = System.nanoTime() + (long) (Math.min(1.0, seconds) * 1e9);
        long end = Long.MAX_VALUE;
        boolean measuring = false;
        while (true) {
            acc.beginStep(++step);
            for (int sender = 0; sender < MAX_SENDERS; sender++) {
                for (int off = 0; off < n; off += chunk) {
                    acc.onGradient(sender, 0, 0, step, off, payload, off * Float.BYTES, Math.min(chunk, n - off));
                }
                if (measuring) {
                    passes++;
                }
            }
            long now = System.nanoTime();
            if (!measuring && now - warmEnd >= 0) {
                measuring = true;
                start = now;
                end = now + (long) (seconds * 1e9);
            } else if (measuring && now - end >= 0) {
                sink += acc.accumulator()[n / 2];
                return (double) passes * n * Float.BYTES / ((now - start) / 1e9);
            }
        }
    }

    private static double plainBytesPerSecond(int n, double seconds) {
        float[] acc = new float[n];
        float[] g = new float[n];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            g[i] = (float) rnd.nextDouble(-1, 1);
        }
        long passes = 0;
        long start = 0;
        long warmEnd = System.nanoTime() + (long) (Math.min(1.0, seconds) * 1e9);
        long end = Long.MAX_VALUE;
        boolean measuring = false;
        while (true) {
            for (int rep = 0; rep < MAX_SENDERS; rep++) {
                addPlain(acc, g, n);
                if (measuring) {
                    passes++;
                }
            }
            long now = System.nanoTime();
            if (!measuring && now - warmEnd >= 0) {
                measuring = true;
                start = now;
                end = now + (long) (seconds * 1e9);
            } else if (measuring && now - end >= 0) {
                sink += acc[n / 2];
                return (double) passes * n * Float.BYTES / ((now - start) / 1e9);
            }
        }
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
}
