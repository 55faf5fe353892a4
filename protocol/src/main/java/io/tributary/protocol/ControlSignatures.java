package io.tributary.protocol;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * Signs every control message this node serializes and checks every one it deserializes, when the
 * cluster runs mutual TLS: who signed it, that the signer's certificate grants a role that may send
 * it ({@link ControlAuthorization}), and, for messages that speak for a trainer, which data-plane
 * endpoint signed them ({@link SignerAttributed}). One per actor system; off until the node
 * {@link #enable enables} it (TLS off: messages travel unsigned, and the receiver takes them at their
 * word).
 *
 * <p>Pekko does not tie a message to the TLS connection it arrived on (an envelope names its origin
 * itself), so the signature travels in the message: Ed25519 (RFC 8032, with the context
 * {@link #CONTEXT}) under a key each node makes at start and announces in its data-plane role,
 * signed with its certificate's key. A message is
 * {@code [MAGIC][signer length][signer: the node's cluster host:port][Kryo body][signature, 64 bytes]},
 * the signature over all that precedes it.
 *
 * <p>A message this node cannot verify, or whose signer may not send it, is refused: the serializer
 * throws (Pekko drops the message and logs it) and the {@link Listener} hears why, once per message.
 */
public final class ControlSignatures implements Extension {

    /** The Ed25519 context of every control-message signature. */
    public static final byte[] CONTEXT = "tributary control message v1".getBytes(StandardCharsets.US_ASCII);
    /** First byte of a signed message. */
    static final byte MAGIC = (byte) 0xC7;
    /** Length of an Ed25519 public key, secret key and signature. */
    public static final int KEY_BYTES = Ed25519.PUBLIC_KEY_SIZE;
    static final int SIGNATURE_BYTES = Ed25519.SIGNATURE_SIZE;

    private static final Id ID = new Id();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A member that signs control messages: its id (cluster host:port), key, certificate's roles and data-plane endpoint. */
    public record Signer(String id, byte[] publicKey, Set<String> roles, String endpoint) {
        public Signer {
            if (publicKey.length != KEY_BYTES) {
                throw new IllegalArgumentException("a control-message key has " + KEY_BYTES + " bytes, not "
                        + publicKey.length);
            }
            roles = Set.copyOf(roles);
        }
    }

    /** Finds the verified signer behind an id; null while this node cannot vouch for it (not a member yet, no certificate). */
    public interface Resolver {
        Signer resolve(String id);
    }

    /** Why a message was refused. */
    public enum Refusal {
        /** It was not signed, or its signature block is malformed. */
        UNSIGNED,
        /** This node knows no member with a verified key by the id the message names. */
        UNKNOWN_SIGNER,
        /** The signature does not verify under the named member's key: altered, or signed by another. */
        BAD_SIGNATURE,
        /** Signed by a member whose certificate grants no role that may send this message. */
        NOT_ITS_ROLE
    }

    /** Hears every refusal; {@code signer} is null unless the signature verified (only then is blame sure). */
    public interface Listener {
        /** @param type the message's class name, or "unknown" when it was refused before it was read */
        void refused(Refusal reason, String signerId, Signer signer, String type, String message);
    }

    /** A verified message's body and who signed it. */
    record Opened(int bodyOffset, int bodyLength, Signer signer) {
    }

    private record Self(Signer signer, byte[] header, byte[] secretKey, Resolver resolver, Listener listener) {
    }

    private volatile Self self;
    private final Map<String, Signer> known = new ConcurrentHashMap<>();

    /** The instance of {@code system}. */
    public static ControlSignatures get(org.apache.pekko.actor.ActorSystem system) {
        return ID.get(system);
    }

    /** A new key pair: {@code [secret, public]}, {@link #KEY_BYTES} bytes each. */
    public static byte[][] newKeyPair() {
        byte[] secret = new byte[KEY_BYTES];
        Ed25519.generatePrivateKey(RANDOM, secret);
        byte[] pub = new byte[KEY_BYTES];
        Ed25519.generatePublicKey(secret, 0, pub, 0);
        return new byte[][]{secret, pub};
    }

    /**
     * Signs every message from now on as {@code me} with {@code secretKey}, and accepts only messages
     * {@code resolver} vouches for and {@link ControlAuthorization} permits.
     */
    public void enable(Signer me, byte[] secretKey, Resolver resolver, Listener listener) {
        byte[] derived = new byte[KEY_BYTES];
        Ed25519.generatePublicKey(secretKey, 0, derived, 0);
        if (!java.util.Arrays.equals(derived, me.publicKey())) {
            throw new IllegalArgumentException("the control-message secret key does not belong to the public key announced");
        }
        byte[] id = me.id().getBytes(StandardCharsets.UTF_8);
        if (id.length > 255) {
            throw new IllegalArgumentException("signer id '" + me.id() + "' is longer than 255 bytes");
        }
        byte[] header = new byte[2 + id.length];
        header[0] = MAGIC;
        header[1] = (byte) id.length;
        System.arraycopy(id, 0, header, 2, id.length);
        known.clear();
        self = new Self(me, header, secretKey.clone(), resolver, listener);
    }

    /** Whether messages are signed and checked. */
    public boolean enabled() {
        return self != null;
    }

    /** Forgets what this node verified about {@code id} (it left; a member at that address again is checked anew). */
    public void forget(String id) {
        known.remove(id);
    }

    /** The header a signed message starts with; null when off. */
    byte[] header() {
        Self s = self;
        return s == null ? null : s.header;
    }

    /** Signs {@code bytes[0, length)} into the {@value #SIGNATURE_BYTES} bytes that follow them. */
    void sign(byte[] bytes, int length) {
        Ed25519.sign(self.secretKey, 0, CONTEXT, bytes, 0, length, bytes, length);
    }

    /** Checks a signed message's envelope; throws (after telling the listener) when it is refused. */
    Opened open(byte[] bytes) {
        Self s = self;
        if (bytes.length < 2 + SIGNATURE_BYTES || bytes[0] != MAGIC
                || 2 + (bytes[1] & 0xff) + SIGNATURE_BYTES > bytes.length) {
            throw refuse(s, Refusal.UNSIGNED, "?", null, null, "a " + bytes.length + "-byte message without a signature"
                    + " block (is the sender running with mutual TLS and Tributary protocol "
                    + ProtocolRegistry.PROTOCOL_VERSION + "?)");
        }
        int idLength = bytes[1] & 0xff;
        String id = new String(bytes, 2, idLength, StandardCharsets.UTF_8);
        int signed = bytes.length - SIGNATURE_BYTES;
        Signer signer = signerOf(s, id);
        if (signer == null) {
            throw refuse(s, Refusal.UNKNOWN_SIGNER, id, null, null, "a message signed by " + id
                    + ", which this node cannot vouch for (not a member, or its certificate not yet seen)");
        }
        if (!Ed25519.verify(bytes, signed, signer.publicKey(), 0, CONTEXT, bytes, 0, signed)) {
            // the member may have restarted at the same address with a new key: look it up once more
            known.remove(id);
            Signer again = signerOf(s, id);
            if (again == null || !Ed25519.verify(bytes, signed, again.publicKey(), 0, CONTEXT, bytes, 0, signed)) {
                throw refuse(s, Refusal.BAD_SIGNATURE, id, null, null, "a message that names " + id
                        + " as its signer but does not verify under its key (altered, or signed by another member)");
            }
            signer = again;
        }
        return new Opened(2 + idLength, signed - 2 - idLength, signer);
    }

    /** Checks that {@code signer} may send {@code message}; throws (after telling the listener) when not. */
    void authorize(Object message, Signer signer) {
        Set<String> may = ControlAuthorization.senders(message.getClass());
        for (String role : signer.roles()) {
            if (may.contains(role)) {
                return;
            }
        }
        throw refuse(self, Refusal.NOT_ITS_ROLE, signer.id(), signer, message.getClass().getSimpleName(),
                message.getClass().getSimpleName()
                + " from " + signer.id() + ", whose certificate grants " + new java.util.TreeSet<>(signer.roles())
                + " but only " + (may.isEmpty() ? "no member" : new java.util.TreeSet<>(may)) + " may send it");
    }

    private Signer signerOf(Self s, String id) {
        if (id.equals(s.signer.id())) {
            return s.signer;
        }
        Signer cached = known.get(id);
        if (cached != null) {
            return cached;
        }
        Signer found = s.resolver.resolve(id);
        if (found != null) {
            known.put(id, found);
        }
        return found;
    }

    private static IllegalArgumentException refuse(Self s, Refusal reason, String id, Signer signer, String type,
                                                   String what) {
        if (s != null) {
            s.listener.refused(reason, id, signer, type == null ? "unknown" : type, what);
        }
        return new IllegalArgumentException("refused " + what + " (" + reason.name().toLowerCase(java.util.Locale.ROOT)
                + "): dropped");
    }

    private static final class Id extends AbstractExtensionId<ControlSignatures> {
        @Override
        public ControlSignatures createExtension(ExtendedActorSystem system) {
            return new ControlSignatures();
        }
    }
}
