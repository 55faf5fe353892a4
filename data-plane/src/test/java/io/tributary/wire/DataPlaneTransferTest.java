package io.tributary.wire;

import static io.tributary.wire.WireTestSupport.awaitTrue;
import static io.tributary.wire.WireTestSupport.crcOfBits;
import static io.tributary.wire.WireTestSupport.freeUdpPort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.prometheus.metrics.core.metrics.Counter;
import io.tributary.dataplane.ContributionSlots;
import io.tributary.dataplane.ParameterAssembler;
import io.tributary.protocol.ShardLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class DataPlaneTransferTest extends TwoDriversTest {


    @Override
    protected void afterClose() {
        assertFalse(Files.exists(trainerSide.directory()), "driver directory deleted on close");
    }

    private static float[] gradient(SplittableRandom rnd, int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            // Finite values of every magnitude, never -0.0 (0 + -0.0 is +0.0, which would not be bit-exact).
            float v = (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-140, 100)));
            g[i] = v == 0f ? 0f : v;
        }
        return g;
    }

    @Test
    void gradientsOfOddLengthsArriveBitExactOverUdp() throws Exception {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        String channel = DataPlane.udpChannel("127.0.0.1", freeUdpPort());
        Subscription subscription = shardSide.addSubscription(channel, STREAM);
        ExclusivePublication publication = trainerSide.addPublication(channel, STREAM);
        FramePublisher publisher = FramePublisher.create(publication, RUN, 0);
        int chunk = publisher.maxPayloadFloats();
        int[] lengths = {1, 3, chunk - 1, chunk + 1, 3 * chunk + 7, 100_003};
        FrameReceiver receiver = new FrameReceiver(subscription, RUN);
        ContributionSlots[] slots = new ContributionSlots[lengths.length];
        AtomicInteger[] completions = new AtomicInteger[lengths.length];
        for (int t = 0; t < lengths.length; t++) {
            AtomicInteger completed = completions[t] = new AtomicInteger();
            slots[t] = new ContributionSlots(lengths[t], 1, (trainer, step) -> completed.incrementAndGet());
            receiver.registerGradients(0, t, lengths[t], WireTestSupport.forwardTo(slots[t]));
        }
        start(receiver);
        assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)), "UDP publication connected");

        float[][] sent = new float[lengths.length][];
        for (int t = 0; t < lengths.length; t++) {
            // Send from the middle of a larger array, as a trainer sends its slice for one shard.
            float[] whole = gradient(rnd, lengths[t] + 5);
            sent[t] = whole;
            publisher.sendGradient(0, t, 7, whole, 5, lengths[t]);
        }
        for (int t = 0; t < lengths.length; t++) {
            AtomicInteger completed = completions[t];
            assertTrue(awaitTrue(() -> completed.get() == 1, 5_000), "tensor " + t + " complete, seed " + seed);
            assertEquals(crcOfBits(sent[t], 5, lengths[t]), crcOfBits(slots[t].slot(0), 0, lengths[t]),
                    "tensor " + t + " of " + lengths[t] + " floats bit-exact, seed " + seed);
        }
        assertEquals(0, receiver.rejectedTotal());
    }

    @Test
    void parametersWithArbitraryBitsArriveBitExactOverIpc() throws Exception {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        Subscription subscription = shardSide.addSubscription(DataPlane.IPC_CHANNEL, STREAM);
        // IPC goes through the driver the subscription lives on.
        ExclusivePublication publication = shardSide.addPublication(DataPlane.IPC_CHANNEL, STREAM);
        FramePublisher publisher = FramePublisher.create(publication, RUN, 3);
        // Three shards of two chunks and a bit each, into one replica (tensor 1, the coordinator's).
        ShardLayout layout = new ShardLayout(6 * publisher.maxPayloadFloats() + 12_345, 3);
        int n = layout.totalParameters();
        float[] params = new float[n];
        for (int i = 0; i < n; i++) {
            params[i] = Float.intBitsToFloat(rnd.nextInt()); // NaN payloads and -0.0 included
        }
        AtomicLong readyVersion = new AtomicLong(-1);
        ParameterAssembler assembler = new ParameterAssembler(layout, readyVersion::set);
        assembler.expect(99);
        FrameReceiver receiver = new FrameReceiver(subscription, RUN);
        for (int k = 0; k < layout.shardCount(); k++) {
            receiver.registerParameters(k, 1, layout.length(k), WireTestSupport.forwardTo(assembler));
        }
        start(receiver);
        assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)));

        for (int k = layout.shardCount() - 1; k >= 0; k--) {
            publisher.sendParameters(k, 1, 99, params, layout.offset(k), layout.length(k));
        }

        assertTrue(awaitTrue(() -> readyVersion.get() == 99, 5_000), "seed " + seed);
        assertEquals((long) n * Float.BYTES, receiver.payloadBytesAccepted());
        assertEquals(crcOfBits(params, 0, n), crcOfBits(assembler.parameters(), 0, n), "seed " + seed);
    }

    @Test
    void framesOfAnotherMagicVersionOrRunAreRejectedAndCounted() throws Exception {
        String channel = DataPlane.udpChannel("127.0.0.1", freeUdpPort());
        Subscription subscription = shardSide.addSubscription(channel, STREAM);
        ExclusivePublication publication = trainerSide.addPublication(channel, STREAM);
        AtomicInteger completed = new AtomicInteger();
        ContributionSlots slots = new ContributionSlots(4, 1, (trainer, step) -> completed.incrementAndGet());
        FrameReceiver receiver = new FrameReceiver(subscription, RUN)
                .registerGradients(0, 0, 4, WireTestSupport.forwardTo(slots));
        start(receiver);
        assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)));

        UnsafeBuffer frame = new UnsafeBuffer(new byte[FrameHeader.HEADER_LENGTH + 16]);
        FrameHeader header = new FrameHeader().wrap(frame, 0);
        header.writeHeader(FrameType.GRADIENT, RUN, 0, 0, 0, 0, 1).payloadLength(16);
        for (int i = 0; i < 4; i++) {
            frame.putFloat(FrameHeader.HEADER_LENGTH + 4 * i, 1f, java.nio.ByteOrder.LITTLE_ENDIAN);
        }
        offerOrFail(publication, frame.byteArray().clone(), h -> h.magic(0xDEAD_BEEF));
        offerOrFail(publication, frame.byteArray().clone(), h -> h.version((short) 1));
        offerOrFail(publication, frame.byteArray().clone(), h -> h.runId(RUN + 1));
        offerOrFail(publication, frame.byteArray().clone(), h -> h.encoding((byte) 9));
        offerOrFail(publication, frame.byteArray().clone(), h -> h.elementOffset(1));
        offerOrFail(publication, frame.byteArray().clone(), h -> h.payloadLength(12));
        offerOrFail(publication, frame.byteArray().clone(), h -> { });

        assertTrue(awaitTrue(() -> receiver.framesAccepted() == 1 && receiver.rejectedTotal() == 6, 5_000),
                "accepted " + receiver.framesAccepted() + ", rejected " + receiver.rejectedTotal());
        assertEquals(1, receiver.rejected(RejectReason.BAD_MAGIC));
        assertEquals(1, receiver.rejected(RejectReason.BAD_VERSION));
        assertEquals(1, receiver.rejected(RejectReason.WRONG_RUN));
        assertEquals(1, receiver.rejected(RejectReason.BAD_ENCODING));
        assertEquals(1, receiver.rejected(RejectReason.OUT_OF_BOUNDS));
        assertEquals(1, receiver.rejected(RejectReason.TRUNCATED));
        assertTrue(awaitTrue(() -> completed.get() == 1, 1_000));
        assertEquals(1f, slots.slot(0)[3]);
    }

    private static void offerOrFail(Publication publication, byte[] bytes, java.util.function.Consumer<FrameHeader> edit) {
        UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        edit.accept(new FrameHeader().wrap(buffer, 0));
        long deadline = System.nanoTime() + 2_000_000_000L;
        long result;
        while ((result = publication.offer(buffer)) < 0) {
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError("offer failed: " + FramePublisher.offerResultName(result));
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void duplicatedGradientIsAppliedOnce() throws Exception {
        String channel = DataPlane.udpChannel("127.0.0.1", freeUdpPort());
        Subscription subscription = shardSide.addSubscription(channel, STREAM);
        ExclusivePublication publication = trainerSide.addPublication(channel, STREAM);
        FramePublisher publisher = FramePublisher.create(publication, RUN, 1);
        int n = publisher.maxPayloadFloats() * 2 + 3;
        AtomicInteger completed = new AtomicInteger();
        ContributionSlots slots = new ContributionSlots(n, 2, (trainer, step) -> completed.incrementAndGet());
        FrameReceiver receiver = new FrameReceiver(subscription, RUN)
                .registerGradients(0, 0, n, WireTestSupport.forwardTo(slots));
        start(receiver);
        assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)));
        float[] g = gradient(new SplittableRandom(1), n);

        int frames = publisher.sendGradient(0, 0, 4, g, 0, n);
        publisher.sendGradient(0, 0, 4, g, 0, n);

        assertTrue(awaitTrue(() -> slots.duplicates() == frames, 5_000), "duplicates " + slots.duplicates());
        assertEquals(1, completed.get());
        assertEquals(crcOfBits(g, 0, n), crcOfBits(slots.slot(1), 0, n));
        assertEquals(0, slots.stale() + slots.unknownSender());
    }

    @Test
    void sendWithoutSubscriberFailsNotConnectedWithinTheDeadline() throws Exception {
        ExclusivePublication publication = trainerSide.addPublication(
                DataPlane.udpChannel("127.0.0.1", freeUdpPort()), STREAM);
        FramePublisher publisher = new FramePublisher(publication, RUN, 0, FramePublisher.DEFAULT_MAX_FRAME_LENGTH,
                Duration.ofMillis(300), new SleepingMillisIdleStrategy(1), null);
        long start = System.nanoTime();
        OfferFailedException e = assertThrows(OfferFailedException.class,
                () -> publisher.sendGradient(0, 0, 0, new float[10], 0, 10));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(Publication.NOT_CONNECTED, e.result());
        assertEquals("NOT_CONNECTED", e.resultName());
        assertTrue(elapsedMs >= 300 && elapsedMs < 2_000, "failed after " + elapsedMs + " ms");
        assertTrue(publisher.notConnectedWaits() > 0);
        assertTrue(e.getMessage().contains("NOT_CONNECTED"), e.getMessage());
    }

    @Test
    void sendToSubscriberThatNeverPollsFailsBackPressuredAndCountsTheWaits() throws Exception {
        Subscription subscription = shardSide.addSubscription(DataPlane.IPC_CHANNEL, STREAM);
        ExclusivePublication publication = shardSide.addPublication(DataPlane.IPC_CHANNEL, STREAM);
        assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)));
        Counter waits = Counter.builder().name("tributary_backpressure_waits").build();
        FramePublisher publisher = new FramePublisher(publication, RUN, 0, FramePublisher.DEFAULT_MAX_FRAME_LENGTH,
                Duration.ofMillis(300), new SleepingMillisIdleStrategy(1), waits);
        float[] big = new float[4 * 1024 * 1024]; // 16 MiB: more than the publication window
        OfferFailedException e = assertThrows(OfferFailedException.class,
                () -> publisher.sendGradient(0, 0, 0, big, 0, big.length));
        assertEquals(Publication.BACK_PRESSURED, e.result());
        assertTrue(publisher.backPressureWaits() > 0);
        assertEquals(publisher.backPressureWaits(), waits.getLongValue());
        assertEquals(0, subscription.poll((b, o, l, h) -> { }, 0));
    }

    @Test
    void driverDirectoryIsUniquePerInstance() {
        Path a = trainerSide.directory();
        Path b = shardSide.directory();
        assertFalse(a.equals(b));
        assertTrue(Files.isDirectory(a) && Files.isDirectory(b));
    }
}
