package io.tributary.wire;

import static io.tributary.wire.WireTestSupport.awaitTrue;
import static io.tributary.wire.WireTestSupport.crcOfBits;
import static io.tributary.wire.WireTestSupport.freeUdpPort;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.tributary.dataplane.ContributionSlots;
import io.tributary.dataplane.ParameterAssembler;
import io.tributary.protocol.ShardLayout;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Compressed frames over real Aeron drivers on 127.0.0.1: round trips, bytes on the wire, rejections. */
@Timeout(30)
class CompressedFramesTest extends TwoDriversTest {

    private static final int CHUNK = ContributionSlots.CHUNK_FLOATS; // 16364 values per full frame

    private static float[] gradient(SplittableRandom rnd, int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-20, 8)));
        }
        return g;
    }

    /**
     * A gradient of 3 full frames and 7 values, sent with error feedback over UDP into contribution slots:
     * the slot holds bit for bit what the sender's src holds afterwards, and the frames took the bytes worked
     * out by hand: 4 frames of an 80-byte header each, plus per value 4 (float32), 2 (float16, bfloat16) or
     * 1 byte and 4 per frame for the scale (int8).
     */
    @ParameterizedTest
    @EnumSource(Encoding.class)
    void gradientWithErrorFeedbackArrivesAsTheSenderDecodedItOverUdp(Encoding encoding) throws Exception {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        String channel = DataPlane.udpChannel("127.0.0.1", freeUdpPort());
        Subscription subscription = shardSide.addSubscription(channel, STREAM);
        ExclusivePublication publication = trainerSide.addPublication(channel, STREAM);
        FramePublisher publisher = FramePublisher.create(publication, RUN, 0);
        assertEquals(CHUNK, publisher.maxPayloadFloats(), "values per frame whatever the encoding");
        int n = 3 * CHUNK + 7;
        AtomicInteger completed = new AtomicInteger();
        ContributionSlots slots = new ContributionSlots(n, 1, (trainer, step) -> completed.incrementAndGet());
        FrameReceiver receiver = new FrameReceiver(subscription, RUN)
                .registerGradients(2, 0, n, WireTestSupport.forwardTo(slots));
        start(receiver);
        assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)), "UDP publication connected");

        // The trainer's slice for this shard starts 5 elements into its gradient; the residual is indexed alike.
        float[] whole = gradient(rnd, n + 5);
        float[] residual = new float[n + 5];
        for (int i = 5; i < n + 5; i++) {
            residual[i] = (float) rnd.nextDouble(-1e-3, 1e-3);
        }
        float[] original = whole.clone();
        int frames = publisher.send(FrameType.GRADIENT, 2, 0, 7, whole, 5, n, 0, encoding, residual.clone());

        assertEquals(4, frames);
        assertTrue(awaitTrue(() -> completed.get() == 1, 5_000), encoding + " gradient complete, seed " + seed);
        assertEquals(crcOfBits(whole, 5, n), crcOfBits(slots.slot(0), 0, n), encoding + " bit-exact, seed " + seed);
        assertEquals(0, receiver.rejectedTotal());
        int bytesPerValue = encoding == Encoding.FLOAT32 ? 4 : encoding == Encoding.INT8 ? 1 : 2;
        long expectedBytes = 4 * 80 + (long) n * bytesPerValue + (encoding == Encoding.INT8 ? 4 * 4 : 0);
        assertEquals(expectedBytes, publisher.bytesSent(), encoding + " frame bytes");
        assertEquals(expectedBytes - 4 * 80, receiver.payloadBytesAccepted());
        long float32Bytes = 4 * 80 + 4L * n;
        double ratio = (double) publisher.bytesSent() / float32Bytes;
        double expectedRatio = encoding == Encoding.FLOAT32 ? 1.0 : encoding == Encoding.INT8 ? 0.25 : 0.5;
        assertEquals(expectedRatio, ratio, 0.005, encoding + " bytes relative to float32");
        if (encoding == Encoding.FLOAT32) {
            assertArrayEquals(original, whole, "float32 leaves src as it is");
        }
        assertArrayEquals(java.util.Arrays.copyOf(original, 5), java.util.Arrays.copyOf(whole, 5), "outside the range");
    }

    /**
     * Parameters without a residual over IPC into a replica: the shard's copy is left as it is, and the replica
     * holds what each frame's encoding makes of it (encoded and decoded here frame by frame, 16364 values each).
     */
    @ParameterizedTest
    @EnumSource(Encoding.class)
    void parametersWithoutResidualLeaveTheMasterCopyAndArriveDecodedOverIpc(Encoding encoding) throws Exception {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        Subscription subscription = shardSide.addSubscription(DataPlane.IPC_CHANNEL, STREAM);
        ExclusivePublication publication = shardSide.addPublication(DataPlane.IPC_CHANNEL, STREAM);
        FramePublisher publisher = FramePublisher.create(publication, RUN, 3);
        ShardLayout layout = new ShardLayout(6 * CHUNK + 12_345, 3);
        int n = layout.totalParameters();
        float[] params = gradient(rnd, n);
        float[] master = params.clone();
        AtomicLong readyVersion = new AtomicLong(-1);
        ParameterAssembler assembler = new ParameterAssembler(layout, readyVersion::set);
        assembler.expect(99);
        FrameReceiver receiver = new FrameReceiver(subscription, RUN);
        for (int k = 0; k < layout.shardCount(); k++) {
            receiver.registerParameters(k, 1, layout.length(k), WireTestSupport.forwardTo(assembler));
        }
        start(receiver);
        assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)));

        for (int k = 0; k < layout.shardCount(); k++) {
            publisher.send(FrameType.PARAMETERS, k, 1, 99, params, layout.offset(k), layout.length(k), 0, encoding,
                    null);
        }

        assertTrue(awaitTrue(() -> readyVersion.get() == 99, 5_000), encoding + ", seed " + seed);
        assertArrayEquals(master, params, "the master copy is untouched");
        float[] expected = new float[n];
        UnsafeBuffer payload = new UnsafeBuffer(new byte[4 * CHUNK]);
        UnsafeBuffer decoded = new UnsafeBuffer(new byte[4 * CHUNK]);
        for (int k = 0; k < layout.shardCount(); k++) {
            for (int done = 0; done < layout.length(k); done += CHUNK) {
                int count = Math.min(CHUNK, layout.length(k) - done);
                encoding.encode(params, layout.offset(k) + done, count, null, payload, 0);
                assertTrue(encoding.decode(payload, 0, count, decoded, 0));
                for (int i = 0; i < count; i++) {
                    expected[layout.offset(k) + done + i] = decoded.getFloat(4 * i, LITTLE_ENDIAN);
                }
            }
        }
        assertEquals(crcOfBits(expected, 0, n), crcOfBits(assembler.parameters(), 0, n), encoding + ", seed " + seed);
        assertEquals(0, receiver.rejectedTotal());
    }

    /**
     * Malformed compressed frames are rejected at the receiver and counted by reason; good ones of every
     * encoding go through. Values by hand: int8 e = -6, q = {64, -32, 16, 0} is {1.0, -0.5, 0.25, 0};
     * float16 {0x3C00, 0xC000, 0x3555, 0x0001} is {1, -2, 0.333251953125, 2^-24}.
     */
    @Test
    void compressedFramesWithAnUnknownEncodingABadLengthOrABadScaleAreRejectedAndCounted() throws Exception {
        Subscription subscription = shardSide.addSubscription(DataPlane.IPC_CHANNEL, STREAM);
        ExclusivePublication publication = shardSide.addPublication(DataPlane.IPC_CHANNEL, STREAM);
        AtomicInteger completed = new AtomicInteger();
        ContributionSlots slots = new ContributionSlots(4, 2, (trainer, step) -> completed.incrementAndGet());
        FrameReceiver receiver = new FrameReceiver(subscription, RUN)
                .registerGradients(0, 0, 4, WireTestSupport.forwardTo(slots));
        start(receiver);
        assertTrue(DataPlane.awaitConnected(publication, Duration.ofSeconds(5)));

        byte[] int8 = frame(Encoding.INT8, 0, new byte[] {(byte) 0xFA, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 64, -32, 16, 0});
        byte[] half = frame(Encoding.FLOAT16, 1, new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0, 0x55, 0x35, 0x01, 0x00});
        offerOrFail(publication, int8.clone(), h -> h.encoding((byte) 0));
        offerOrFail(publication, int8.clone(), h -> h.encoding((byte) 5));
        offerOrFail(publication, frame(Encoding.FLOAT16, 0, new byte[3]), h -> { });
        offerOrFail(publication, frame(Encoding.BFLOAT16, 0, new byte[5]), h -> { });
        offerOrFail(publication, frame(Encoding.FLOAT32, 0, new byte[6]), h -> { });
        offerOrFail(publication, frame(Encoding.INT8, 0, new byte[3]), h -> { });
        offerOrFail(publication, withScaleExponent(int8, 122), h -> { });
        offerOrFail(publication, withScaleExponent(int8, -150), h -> { });
        offerOrFail(publication, withScaleExponent(int8, Integer.MIN_VALUE), h -> { });
        byte[] minus128 = int8.clone();
        minus128[FrameHeader.HEADER_LENGTH + 4 + 2] = Byte.MIN_VALUE;
        offerOrFail(publication, minus128, h -> { });
        offerOrFail(publication, int8.clone(), h -> { });
        offerOrFail(publication, half.clone(), h -> { });

        assertTrue(awaitTrue(() -> receiver.framesAccepted() == 2 && receiver.rejectedTotal() == 10, 5_000),
                "accepted " + receiver.framesAccepted() + ", rejected " + receiver.rejectedTotal());
        assertEquals(2, receiver.rejected(RejectReason.BAD_ENCODING));
        assertEquals(4, receiver.rejected(RejectReason.BAD_LENGTH));
        assertEquals(4, receiver.rejected(RejectReason.BAD_PAYLOAD));
        assertTrue(awaitTrue(() -> completed.get() == 2, 1_000));
        assertArrayEquals(new float[] {1.0f, -0.5f, 0.25f, 0f}, slots.slot(0));
        assertArrayEquals(new float[] {1.0f, -2.0f, 0.333251953125f, 0x1p-24f}, slots.slot(1));
        assertEquals(8 + 8, receiver.payloadBytesAccepted());
    }

    /** A gradient frame from {@code sender} for shard 0, tensor 0, step 1, element 0, with {@code payload} as is. */
    private static byte[] frame(Encoding encoding, int sender, byte[] payload) {
        UnsafeBuffer frame = new UnsafeBuffer(new byte[FrameHeader.HEADER_LENGTH + payload.length]);
        new FrameHeader().wrap(frame, 0).writeHeader(FrameType.GRADIENT, encoding, RUN, sender, 0, 0, 0, 1)
                .payloadLength(payload.length);
        frame.putBytes(FrameHeader.HEADER_LENGTH, payload);
        return frame.byteArray();
    }

    private static byte[] withScaleExponent(byte[] int8Frame, int exponent) {
        byte[] copy = int8Frame.clone();
        new UnsafeBuffer(copy).putInt(FrameHeader.HEADER_LENGTH, exponent, LITTLE_ENDIAN);
        return copy;
    }

    private static void offerOrFail(Publication publication, byte[] bytes, Consumer<FrameHeader> edit) {
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
}
