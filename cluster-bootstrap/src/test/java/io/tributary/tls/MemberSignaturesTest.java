package io.tributary.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.junit.jupiter.api.Test;

/** Signing and checking what a member says about itself, with hand-made P-256 keys. */
class MemberSignaturesTest {

    private static KeyPair p256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    @Test
    void aSignatureVerifiesWithItsOwnKeyAndFieldsOnly() throws Exception {
        KeyPair alice = p256();
        KeyPair mallory = p256();
        String sig = MemberSignatures.sign(alice.getPrivate(), MemberSignatures.DATA_PLANE_LABEL,
                "127.0.0.1", "127.0.0.1:40123", "KEY");
        assertTrue(MemberSignatures.verify(alice.getPublic(), sig, MemberSignatures.DATA_PLANE_LABEL,
                "127.0.0.1", "127.0.0.1:40123", "KEY"));
        // another key, another endpoint, another public key, another label: all refused
        assertFalse(MemberSignatures.verify(mallory.getPublic(), sig, MemberSignatures.DATA_PLANE_LABEL,
                "127.0.0.1", "127.0.0.1:40123", "KEY"));
        assertFalse(MemberSignatures.verify(alice.getPublic(), sig, MemberSignatures.DATA_PLANE_LABEL,
                "127.0.0.1", "127.0.0.1:40124", "KEY"));
        assertFalse(MemberSignatures.verify(alice.getPublic(), sig, MemberSignatures.DATA_PLANE_LABEL,
                "127.0.0.1", "127.0.0.1:40123", "KEZ"));
        assertFalse(MemberSignatures.verify(alice.getPublic(), sig, MemberSignatures.REGISTRATION_LABEL,
                "127.0.0.1", "127.0.0.1:40123", "KEY"));
        assertFalse(sig.contains("|") || sig.contains("=") || sig.contains("+") || sig.contains("/"),
                "a signature travels inside a '|'-separated role: " + sig);
    }

    @Test
    void fieldsAreLengthPrefixedSoTheirBoundariesCannotMove() throws Exception {
        KeyPair alice = p256();
        String sig = MemberSignatures.sign(alice.getPrivate(), "L", "ab", "c");
        assertFalse(MemberSignatures.verify(alice.getPublic(), sig, "L", "a", "bc"));
        assertFalse(MemberSignatures.verify(alice.getPublic(), sig, "L", "abc"));
        assertNotEquals(java.util.Arrays.toString(MemberSignatures.signedBytes("L", "ab", "c")),
                java.util.Arrays.toString(MemberSignatures.signedBytes("L", "a", "bc")));
    }

    @Test
    void garbageIsAFailedCheckNotAnError() throws Exception {
        KeyPair alice = p256();
        assertFalse(MemberSignatures.verify(alice.getPublic(), "not base64 !", "L", "x"));
        assertFalse(MemberSignatures.verify(alice.getPublic(), "AAAA", "L", "x"));
        assertFalse(MemberSignatures.verify(alice.getPublic(), "", "L", "x"));
    }

    @Test
    void aCertificatesFingerprintIsTheSha256OfItsDer() throws Exception {
        TestPki pki = new TestPki("fingerprint");
        TlsMaterial.Node a = TlsMaterial.loadNode(pki.node("trainer"));
        TlsMaterial.Node b = TlsMaterial.loadNode(pki.node("trainer"));
        String fa = MemberSignatures.fingerprint(a.certificate());
        assertEquals(64, fa.length());
        assertEquals(fa, MemberSignatures.fingerprint(a.certificate()));
        assertNotEquals(fa, MemberSignatures.fingerprint(b.certificate()));
        assertEquals(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(a.certificate().getEncoded())), fa);
        // a node's certificate key verifies what its node.key signs
        String sig = MemberSignatures.sign(a.key(), "L", "x");
        assertTrue(MemberSignatures.verify(a.certificate().getPublicKey(), sig, "L", "x"));
        assertFalse(MemberSignatures.verify(b.certificate().getPublicKey(), sig, "L", "x"));
    }
}
