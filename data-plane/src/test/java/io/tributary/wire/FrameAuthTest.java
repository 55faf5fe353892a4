package io.tributary.wire;

import static io.tributary.wire.WireTestSupport.awaitTrue;
import static io.tributary.wire.WireTestSupport.settings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.tributary.dataplane.ContributionSlots;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.protocol.ShardLayout;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Frame authentication: the MAC itself, key agreement between nodes, and forged and replayed frames on a real data plane. */
class FrameAuthTest {

    private static final long RUN = 5L;
    private static final int FLOATS = 8;
    private static final int FRAME = FrameHeader.HEADER_LENGTH + FLOATS * Float.BYTES;

    @Test
    void macIsHmacSha256OverEverythingButTheMacField() throws Exception {
        byte[] key = new byte[32];
        new SplittableRandom(1).nextBytes(key);
        UnsafeBuffer frame = frame(3, 17);
        byte[] ours = new byte[FrameHeader.MAC_LENGTH];
        new FrameMac(key).compute(frame, 0, FRAME, ours);

        Mac reference = Mac.getInstance("HmacSHA256");
        reference.init(new SecretKeySpec(key, "HmacSHA256"));
        byte[] bytes = Arrays.copyOf(frame.byteArray(), FRAME);
        reference.update(bytes, 0, FrameHeader.MAC_OFFSET);
        int after = FrameHeader.MAC_OFFSET + FrameHeader.MAC_LENGTH;
        reference.update(bytes, after, FRAME - after);
        assertArrayEquals(Arrays.copyOf(reference.doFinal(), FrameHeader.MAC_LENGTH), ours);
    }

    @Test
    void twoNodesAgreeOnAKeyThatAThirdCannotUse() {
        FrameAuth a = FrameAuth.generate();
        FrameAuth b = FrameAuth.generate();
        FrameAuth c = FrameAuth.generate();
        a.addPeer("b:1", b.publicKeyText());
        b.addPeer("a:1", a.publicKeyText());
        c.addPeer("b:1", b.publicKeyText());
        FrameAuth.Verifier atB = b.newVerifier();

        UnsafeBuffer fromA = frame(1, 0);
        a.signerFor("b:1").sign(fromA, 0, FRAME);
        FrameHeader h = new FrameHeader().wrap(fromA, 0);
        assertEquals(a.sessionId(), h.session());
        assertEquals(FrameAuth.Verdict.AUTHENTIC, verify(atB, fromA));
        assertEquals(FrameAuth.Verdict.REPLAYED, verify(atB, fromA), "the same frame again");

        // c knows b's public key and a's session, not the key a and b share
        UnsafeBuffer fromC = frame(1, 0);
        c.signerFor("b:1").sign(fromC, 0, FRAME);
        new FrameHeader().wrap(fromC, 0).session(a.sessionId());
        assertEquals(FrameAuth.Verdict.FORGED, verify(atB, fromC));
        // c under its own session: unknown to b
        UnsafeBuffer own = frame(1, 0);
        c.signerFor("b:1").sign(own, 0, FRAME);
        assertEquals(FrameAuth.Verdict.FORGED, verify(atB, own));

        // an altered payload byte breaks the MAC; so does an altered header field
        UnsafeBuffer altered = frame(1, 1);
        a.signerFor("b:1").sign(altered, 0, FRAME);
        altered.putByte(FRAME - 1, (byte) (altered.getByte(FRAME - 1) ^ 1));
        assertEquals(FrameAuth.Verdict.FORGED, verify(atB, altered));
        UnsafeBuffer restepped = frame(1, 2);
        a.signerFor("b:1").sign(restepped, 0, FRAME);
        new FrameHeader().wrap(restepped, 0).step(3);
        assertEquals(FrameAuth.Verdict.FORGED, verify(atB, restepped));

        // once a leaves, its frames are refused, and what b kept of a's sequence numbers goes
        assertEquals(1, atB.trackedStreams());
        b.removePeer("a:1");
        UnsafeBuffer late = frame(1, 4);
        a.signerFor("b:1").sign(late, 0, FRAME);
        assertEquals(FrameAuth.Verdict.FORGED, verify(atB, late));
        assertEquals(0, atB.trackedStreams(), "a's sequence numbers are forgotten with its key");
        assertNull(b.signerFor("a:1"));
    }

    @Test
    void aKeyThatIsNotX25519IsRefusedWithItsEndpoint() {
        FrameAuth a = FrameAuth.generate();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.addPeer("x:9", "AAAA"));
        assertTrue(e.getMessage().contains("x:9"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.addPeer("x:9", "not base64!"));
    }

    /**
     * The bar: a million forged or replayed frames sent at a node's UDP endpoint, none
     * applied. Forged frames carry the honest sender's session with a made-up MAC; replayed ones
     * are a frame the honest sender really signed, sent again.
     */
    @Test
    @Timeout(180)
    void aMillionForgedOrReplayedFramesAreAllDroppedAndCounted() throws Exception {
        ShardLayout layout = new ShardLayout(FLOATS, 1);
        FrameAuth honest = FrameAuth.generate();
        try (NodeDataPlane node = new NodeDataPlane(settings(), "127.0.0.1", 0, RUN, 0, layout, Duration.ofSeconds(5),
                FrameAuth.generate());
             DataPlane attacker = DataPlane.launch(settings())) {
            node.peerJoined("127.0.0.1:7", honest.publicKeyText());
            node.grantTrainers(1, java.util.Map.of(1, "127.0.0.1:7", 2, "127.0.0.1:7"));
            honest.addPeer(node.endpoint(), node.auth().publicKeyText());
            AtomicInteger completed = new AtomicInteger();
            ContributionSlots slots = new ContributionSlots(FLOATS, 4, (trainer, step) -> completed.incrementAndGet());
            node.hostShard(0, slots);
            String[] hostPort = node.endpoint().split(":");
            ExclusivePublication pub = attacker.addPublication(DataPlane.udpChannel(hostPort[0],
                    Integer.parseInt(hostPort[1])), NodeDataPlane.STREAM_ID);
            assertTrue(DataPlane.awaitConnected(pub, Duration.ofSeconds(10)), "attacker's publication connected");

            // one honest frame, really signed: it completes trainer 1's slot for step 0
            UnsafeBuffer signed = frame(1, 0);
            honest.signerFor(node.endpoint()).sign(signed, 0, FRAME);
            offer(pub, signed);
            assertTrue(awaitTrue(() -> completed.get() == 1, 10_000), "the honest frame was not applied");
            slots.release(1);

            int forged = 500_000;
            int replayed = 500_000;
            UnsafeBuffer fake = frame(2, 1);
            new FrameHeader().wrap(fake, 0).session(honest.sessionId());
            SplittableRandom rnd = new SplittableRandom(11);
            byte[] mac = new byte[FrameHeader.MAC_LENGTH];
            long deadline = System.nanoTime() + 120_000_000_000L;
            for (int i = 0; i < forged + replayed; i++) {
                if (i % 2 == 0) {
                    new FrameHeader().wrap(fake, 0).sequence(1_000_000L + i).step(1 + i);
                    rnd.nextBytes(mac);
                    fake.putBytes(FrameHeader.MAC_OFFSET, mac);
                    offer(pub, fake, deadline);
                } else {
                    offer(pub, signed, deadline);
                }
            }
            FrameReceiver r = node.receiver();
            assertTrue(awaitTrue(() -> r.rejected(RejectReason.FORGED) + r.rejected(RejectReason.REPLAYED)
                            == forged + replayed, 60_000),
                    "forged " + r.rejected(RejectReason.FORGED) + ", replayed " + r.rejected(RejectReason.REPLAYED));
            assertEquals(forged, r.rejected(RejectReason.FORGED));
            assertEquals(replayed, r.rejected(RejectReason.REPLAYED));
            assertEquals(1, r.framesAccepted(), "only the honest frame passed");
            assertEquals(1, completed.get(), "no forged or replayed frame reached a slot");
            assertNotEquals(0f, slots.slot(1)[0]);
        }
    }

    private static FrameAuth.Verdict verify(FrameAuth.Verifier v, UnsafeBuffer f) {
        FrameHeader h = new FrameHeader().wrap(f, 0);
        return v.verify(f, 0, FRAME, h.session(), h.sender(), h.sequence());
    }

    /** A gradient frame of {@code FLOATS} values for trainer {@code sender} at {@code step}, unsigned. */
    private static UnsafeBuffer frame(int sender, long step) {
        UnsafeBuffer f = new UnsafeBuffer(new byte[FRAME]);
        new FrameHeader().wrap(f, 0).writeHeader(FrameType.GRADIENT, RUN, sender, 0, 0, 0, step)
                .payloadLength(FLOATS * Float.BYTES);
        for (int i = 0; i < FLOATS; i++) {
            f.putFloat(FrameHeader.HEADER_LENGTH + 4 * i, 0.25f * (i + 1), ByteOrder.LITTLE_ENDIAN);
        }
        return f;
    }

    private static void offer(Publication pub, UnsafeBuffer f) {
        offer(pub, f, System.nanoTime() + 10_000_000_000L);
    }

    private static void offer(Publication pub, UnsafeBuffer f, long deadline) {
        long result;
        while ((result = pub.offer(f, 0, FRAME)) < 0) {
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError("offer failed: " + FramePublisher.offerResultName(result));
            }
            Thread.onSpinWait();
        }
    }
}
