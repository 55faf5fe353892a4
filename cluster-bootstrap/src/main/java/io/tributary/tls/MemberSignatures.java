package io.tributary.tls;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;

/**
 * What a member says about itself, signed with its TLS key (SHA256withECDSA, URL-safe Base64
 * without padding) so that the others can check it against the certificate the member presented in
 * TLS. The signed bytes are a label naming what is signed, then each field, every one preceded by its
 * length: a signature over one kind of statement never verifies as another, and no two lists of
 * fields share their bytes.
 */
public final class MemberSignatures {

    /** What a data-plane announcement ({@code dp|endpoint|key|signature}) is signed under. */
    public static final String DATA_PLANE_LABEL = "tributary data-plane announcement v1";

    /** What a trainer's registration with the coordinator is signed under. */
    public static final String REGISTRATION_LABEL = "tributary trainer registration v1";
    /** What a member caught lying on the data plane is reported to the coordinator under. */
    public static final String OFFENCE_LABEL = "tributary offence report v1";

    private static final String ALGORITHM = "SHA256withECDSA";

    private MemberSignatures() {
    }

    /** Signs {@code fields} under {@code label} with {@code key}. */
    public static String sign(PrivateKey key, String label, String... fields) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(key);
            s.update(signedBytes(label, fields));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with this node's TLS key (" + key.getAlgorithm() + "): "
                    + e.getMessage() + "; its node.key must be an EC key (tributary certs sign makes one)", e);
        }
    }

    /**
     * Whether {@code signature} is {@code key}'s over {@code fields} under {@code label}; false as well
     * when it is not Base64url or not an ECDSA signature at all.
     */
    public static boolean verify(PublicKey key, String signature, String label, String... fields) {
        byte[] sig;
        try {
            sig = Base64.getUrlDecoder().decode(signature);
        } catch (IllegalArgumentException notBase64) {
            return false;
        }
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(key);
            s.update(signedBytes(label, fields));
            return s.verify(sig);
        } catch (SignatureException malformed) {
            return false; // not a DER-encoded ECDSA signature: not this key's
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot verify with a " + key.getAlgorithm() + " public key: "
                    + e.getMessage() + "; the cluster's certificates must hold EC keys (tributary certs sign)", e);
        }
    }

    /** The SHA-256 of {@code cert}'s DER encoding, in hex: the identity a certificate stands for. */
    public static String fingerprint(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("the certificate " + ClusterCertificates.subjectName(cert)
                    + " cannot be encoded: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK offers no SHA-256: " + e.getMessage(), e);
        }
    }

    static byte[] signedBytes(String label, String... fields) {
        byte[][] parts = new byte[fields.length + 1][];
        parts[0] = label.getBytes(StandardCharsets.UTF_8);
        int size = 4 + parts[0].length;
        for (int i = 0; i < fields.length; i++) {
            parts[i + 1] = fields[i].getBytes(StandardCharsets.UTF_8);
            size += 4 + parts[i + 1].length;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        for (byte[] p : parts) {
            b.putInt(p.length).put(p);
        }
        return b.array();
    }
}
