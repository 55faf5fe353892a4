package io.tributary.wire;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.KeyAgreement;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2LongHashMap;

/**
 * Authentication of data-plane frames (open-source Aeron has none). Each node makes a fresh
 * X25519 key pair when its data plane starts; its public key travels with its cluster membership
 * (the control plane, which mutual TLS protects). Two nodes agree on a pairwise key by X25519
 * (RFC 7748) and SHA-256 over the shared secret and both public keys, so a member knows only the
 * keys it shares and cannot forge frames between two others.
 *
 * <p>Every frame a node sends carries its <em>session</em> (the first four bytes of SHA-256 over
 * its public key), a <em>sequence</em> number that rises with every frame the node sends, and an
 * HMAC-SHA-256 {@link FrameMac} under the pairwise key. A receiver drops, and counts, a frame from
 * an unknown session or with a wrong MAC ({@link RejectReason#FORGED}), and one whose sequence is
 * not above the last it accepted from that session and sender ({@link RejectReason#REPLAYED}):
 * Aeron delivers each publication in order, so an honest sequence only ever rises.
 *
 * <p>Thread use: peers are added and removed from any thread; a {@link Signer} belongs to one
 * publication (used under its lock), a {@link Verifier} to one receiver thread.
 */
public final class FrameAuth {

    private static final String KEY_LABEL = "tributary data-plane key v1";

    private final KeyPair keyPair;
    private final byte[] publicKey;
    private final int sessionId;
    private final AtomicLong sequence = new AtomicLong();
    private final ConcurrentHashMap<String, Peer> byEndpoint = new ConcurrentHashMap<>();
    /** Copy-on-write so that receiver threads read it without a lock or an allocation. */
    private volatile Int2ObjectHashMap<byte[]> keysBySession = new Int2ObjectHashMap<>();
    private volatile int generation;

    private record Peer(int session, byte[] key) {
    }

    private FrameAuth(KeyPair keyPair) {
        this.keyPair = keyPair;
        this.publicKey = keyPair.getPublic().getEncoded();
        this.sessionId = sessionOf(publicKey);
    }

    /** A fresh identity for one data plane (a node restart gets a new one, and a new session). */
    public static FrameAuth generate() {
        try {
            return new FrameAuth(KeyPairGenerator.getInstance("X25519").generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make X25519 keys (Java 11 or newer can): " + e.getMessage(), e);
        }
    }

    /** This node's session id, carried in every frame it sends. */
    public int sessionId() {
        return sessionId;
    }

    /** This node's public key as text (URL-safe Base64 of its X.509 encoding) for the control plane. */
    public String publicKeyText() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(publicKey);
    }

    /** The session of the node with this public key text. */
    public static int sessionOf(String publicKeyText) {
        return sessionOf(decode(publicKeyText));
    }

    private static int sessionOf(byte[] encoded) {
        byte[] h = sha256(encoded);
        int s = (h[0] & 0xff) | (h[1] & 0xff) << 8 | (h[2] & 0xff) << 16 | (h[3] & 0xff) << 24;
        return s == 0 ? 1 : s; // 0 marks an unsigned frame
    }

    private static byte[] decode(String text) {
        try {
            return Base64.getUrlDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("data-plane public key '" + text + "' is not URL-safe Base64", e);
        }
    }

    /**
     * Learns the node that receives at {@code endpoint} and the key it published; derives the
     * pairwise key. Idempotent for the same key; a new key for an endpoint replaces the old one
     * (a restarted node).
     *
     * @return the peer's session id
     * @throws IllegalArgumentException when the key is not an X25519 public key
     */
    public int addPeer(String endpoint, String publicKeyText) {
        byte[] peerKey = decode(publicKeyText);
        int session = sessionOf(peerKey);
        Peer known = byEndpoint.get(endpoint);
        if (known != null && known.session() == session) {
            return session;
        }
        byte[] key;
        try {
            PublicKey peer = KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(peerKey));
            KeyAgreement agreement = KeyAgreement.getInstance("X25519");
            agreement.init(keyPair.getPrivate());
            agreement.doPhase(peer, true);
            byte[] shared = agreement.generateSecret();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(KEY_LABEL.getBytes(StandardCharsets.US_ASCII));
            sha.update(shared);
            boolean mineFirst = Arrays.compareUnsigned(publicKey, peerKey) <= 0;
            sha.update(mineFirst ? publicKey : peerKey);
            sha.update(mineFirst ? peerKey : publicKey);
            key = sha.digest();
            Arrays.fill(shared, (byte) 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("data-plane public key of " + endpoint + " is not a usable X25519 key: "
                    + e.getMessage(), e);
        }
        synchronized (this) {
            Peer previous = byEndpoint.put(endpoint, new Peer(session, key));
            Int2ObjectHashMap<byte[]> next = new Int2ObjectHashMap<>(keysBySession);
            if (previous != null) {
                next.remove(previous.session());
            }
            next.put(session, key);
            keysBySession = next;
            generation++;
        }
        return session;
    }

    /** Forgets the node at {@code endpoint}: its frames are dropped from now on, and nothing is sent to it. */
    public void removePeer(String endpoint) {
        synchronized (this) {
            Peer previous = byEndpoint.remove(endpoint);
            if (previous == null) {
                return;
            }
            Int2ObjectHashMap<byte[]> next = new Int2ObjectHashMap<>(keysBySession);
            next.remove(previous.session());
            keysBySession = next;
            generation++;
        }
    }

    /** Whether a key for {@code endpoint} is known. */
    public boolean knows(String endpoint) {
        return byEndpoint.containsKey(endpoint);
    }

    /** The endpoints whose key is known, this node's own included. */
    public java.util.Set<String> peerEndpoints() {
        return java.util.Set.copyOf(byEndpoint.keySet());
    }

    /** How many peers (this node included, once its own endpoint is added) have a key. */
    public int peerCount() {
        return byEndpoint.size();
    }

    /** A signer for frames to {@code endpoint}, or null while its key is unknown. */
    public Signer signerFor(String endpoint) {
        Peer p = byEndpoint.get(endpoint);
        return p == null ? null : new Signer(new FrameMac(p.key()));
    }

    /** A verifier for one receiver thread. */
    public Verifier newVerifier() {
        return new Verifier();
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** Stamps session, sequence and MAC into frames bound for one node. */
    public final class Signer {
        private final FrameMac mac;
        private final byte[] out = new byte[FrameHeader.MAC_LENGTH];

        private Signer(FrameMac mac) {
            this.mac = mac;
        }

        /** Signs the complete frame (header and payload written) at {@code buffer[offset, offset + length)}. */
        public void sign(MutableDirectBuffer buffer, int offset, int length) {
            buffer.putLong(offset + FrameHeader.SEQUENCE_OFFSET, sequence.incrementAndGet(), java.nio.ByteOrder.LITTLE_ENDIAN);
            buffer.putInt(offset + FrameHeader.SESSION_OFFSET, sessionId, java.nio.ByteOrder.LITTLE_ENDIAN);
            mac.compute(buffer, offset, length, out);
            buffer.putBytes(offset + FrameHeader.MAC_OFFSET, out, 0, FrameHeader.MAC_LENGTH);
        }
    }

    /** What a {@link Verifier} made of a frame. */
    public enum Verdict {
        AUTHENTIC, FORGED, REPLAYED
    }

    /** Checks frames on one receiver thread; allocates only when it meets a new peer. */
    public final class Verifier {
        private final Int2ObjectHashMap<FrameMac> macs = new Int2ObjectHashMap<>();
        private final Long2LongHashMap lastSequence = new Long2LongHashMap(Long.MIN_VALUE);
        private final byte[] expected = new byte[FrameHeader.MAC_LENGTH];
        private int seenGeneration = -1;

        private Verifier() {
        }

        /** Session, MAC and sequence of the frame at {@code buffer[offset, offset + length)}. */
        public Verdict verify(DirectBuffer buffer, int offset, int length, int session, int sender, long frameSequence) {
            if (seenGeneration != generation) {
                seenGeneration = generation;
                macs.clear(); // a peer left or changed its key; rebuilt below as frames come
                forgetSessionsWithoutKey();
            }
            FrameMac mac = macs.get(session);
            if (mac == null) {
                byte[] key = session == 0 ? null : keysBySession.get(session);
                if (key == null) {
                    return Verdict.FORGED;
                }
                mac = new FrameMac(key);
                macs.put(session, mac);
            }
            if (!mac.verify(buffer, offset, length, expected)) {
                return Verdict.FORGED;
            }
            long stream = ((long) session << 32) | (sender & 0xFFFF_FFFFL);
            long last = lastSequence.get(stream);
            if (last != Long.MIN_VALUE && frameSequence <= last) {
                return Verdict.REPLAYED;
            }
            lastSequence.put(stream, frameSequence);
            return Verdict.AUTHENTIC;
        }

        /**
         * Drops the sequence numbers of sessions whose key is gone (their node left or changed its
         * key): their frames are refused as forged from now on, so the numbers only took memory.
         * Runs when the peers change, never per frame.
         */
        private void forgetSessionsWithoutKey() {
            Int2ObjectHashMap<byte[]> keys = keysBySession;
            Long2LongHashMap.KeyIterator streams = lastSequence.keySet().iterator();
            while (streams.hasNext()) {
                int session = (int) (streams.nextValue() >>> 32);
                if (!keys.containsKey(session)) {
                    streams.remove();
                }
            }
        }

        /** Streams (session, sender) whose last sequence number is kept (tests). */
        int trackedStreams() {
            return lastSequence.size();
        }
    }
}
