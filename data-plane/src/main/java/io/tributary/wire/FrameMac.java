package io.tributary.wire;

import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import org.agrona.DirectBuffer;

/**
 * HMAC-SHA-256 (RFC 2104) of a data-plane frame under one key, truncated to the header's
 * {@link FrameHeader#MAC_LENGTH} bytes. It covers every byte of the frame except the MAC field.
 *
 * <p>Written over {@link MessageDigest} rather than {@code javax.crypto.Mac} because {@code Mac}
 * allocates its result on every call; this class allocates nothing per frame (the frame is copied
 * into a scratch array it keeps). One instance per thread: it is not thread-safe.
 */
public final class FrameMac {

    private static final int BLOCK = 64;
    private static final int DIGEST = 32;

    private final MessageDigest sha;
    private final byte[] innerPad = new byte[BLOCK];
    private final byte[] outerPad = new byte[BLOCK];
    private final byte[] digest = new byte[DIGEST];
    private byte[] scratch = new byte[FramePublisher.DEFAULT_MAX_FRAME_LENGTH];

    /** @param key the pairwise key, 32 bytes from {@link FrameAuth} (any length up to 64 works) */
    public FrameMac(byte[] key) {
        if (key.length == 0 || key.length > BLOCK) {
            throw new IllegalArgumentException("an HMAC key of " + key.length + " bytes: use 1..64");
        }
        try {
            this.sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256, which every Java platform must provide", e);
        }
        for (int i = 0; i < BLOCK; i++) {
            byte k = i < key.length ? key[i] : 0;
            innerPad[i] = (byte) (k ^ 0x36);
            outerPad[i] = (byte) (k ^ 0x5c);
        }
    }

    /** Writes the MAC of the frame at {@code buffer[offset, offset + length)} into {@code out[0, 16)}. */
    public void compute(DirectBuffer buffer, int offset, int length, byte[] out) {
        if (length < FrameHeader.HEADER_LENGTH) {
            throw new IllegalArgumentException("a frame of " + length + " bytes is shorter than its header");
        }
        if (scratch.length < length) {
            scratch = new byte[length]; // only for frames above the default size, once
        }
        buffer.getBytes(offset, scratch, 0, length);
        int afterMac = FrameHeader.MAC_OFFSET + FrameHeader.MAC_LENGTH;
        try {
            sha.update(innerPad);
            sha.update(scratch, 0, FrameHeader.MAC_OFFSET);
            sha.update(scratch, afterMac, length - afterMac);
            sha.digest(digest, 0, DIGEST);
            sha.update(outerPad);
            sha.update(digest, 0, DIGEST);
            sha.digest(digest, 0, DIGEST);
        } catch (DigestException e) {
            throw new IllegalStateException("SHA-256 refused a 32-byte output buffer", e);
        }
        System.arraycopy(digest, 0, out, 0, FrameHeader.MAC_LENGTH);
    }

    /** Whether the MAC stored in the frame's header is the right one; compares in constant time. */
    public boolean verify(DirectBuffer buffer, int offset, int length, byte[] expectedScratch) {
        compute(buffer, offset, length, expectedScratch);
        int diff = 0;
        for (int i = 0; i < FrameHeader.MAC_LENGTH; i++) {
            diff |= expectedScratch[i] ^ buffer.getByte(offset + FrameHeader.MAC_OFFSET + i);
        }
        return diff == 0;
    }

    /** Forgets the key material kept in this instance. */
    public void destroy() {
        Arrays.fill(innerPad, (byte) 0);
        Arrays.fill(outerPad, (byte) 0);
    }
}
