package io.tributary.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterCertificatesTest {

    @Test
    void aSignedNodeCertificateCarriesItsRolesAndLoads(@TempDir Path dir) throws Exception {
        ClusterCertificates.createCa(dir.resolve("ca"), "test", Duration.ofDays(1));
        Instant now = Instant.now();
        ClusterCertificates.signNode(dir.resolve("ca"), dir.resolve("alice"), "alice", Set.of("trainer", "ps"),
                now.minusSeconds(60), now.plusSeconds(3600));
        TlsMaterial.Node node = TlsMaterial.loadNode(dir.resolve("alice"));
        assertEquals(Set.of("ps", "trainer"), node.roles());
        assertEquals("CN=alice,O=Tributary", ClusterCertificates.subjectName(node.certificate()));
        assertTrue(Files.readString(dir.resolve("alice/node.key")).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("alice/node.key"))));
        TlsMaterial.context(node, TlsMaterial.trustOnly(node.ca()));
    }

    /**
     * Keys never travel: the volunteer makes its key and a request; the operator signs the request with
     * no key of the node's in sight; the node's folder then loads with the roles granted, and its key is
     * byte for byte the one it made.
     */
    @Test
    void aRequestSignedByTheOperatorMakesANodeFolderWhoseKeyNeverLeftIt(@TempDir Path dir) throws Exception {
        ClusterCertificates.createCa(dir.resolve("ca"), "test", Duration.ofDays(1));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("ca/ca.key"))));
        Path csr = ClusterCertificates.request(dir.resolve("alice"), "alice");
        assertEquals(dir.resolve("alice/node.csr"), csr);
        String key = Files.readString(dir.resolve("alice/node.key"));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("alice/node.key"))));
        Path signed = dir.resolve("signed-for-alice");
        Files.copy(csr, Files.createDirectories(dir.resolve("operator")).resolve("alice.csr"));
        Instant now = Instant.now();
        ClusterCertificates.signRequest(dir.resolve("ca"), dir.resolve("operator/alice.csr"), Set.of("trainer"),
                now.minusSeconds(60), now.plusSeconds(3600), signed);
        assertTrue(Files.notExists(signed.resolve("node.key")), "the operator's side holds no node key");
        Files.copy(signed.resolve("node.crt"), dir.resolve("alice/node.crt"));
        Files.copy(signed.resolve("ca.crt"), dir.resolve("alice/ca.crt"));
        TlsMaterial.Node node = TlsMaterial.loadNode(dir.resolve("alice"));
        assertEquals(Set.of("trainer"), node.roles());
        assertEquals("CN=alice,O=Tributary", ClusterCertificates.subjectName(node.certificate()));
        assertEquals(key, Files.readString(dir.resolve("alice/node.key")));
        TlsMaterial.context(node, TlsMaterial.trustOnly(node.ca()));
    }

    @Test
    void aRequestNotSignedByTheKeyItCarriesIsRefused(@TempDir Path dir) throws Exception {
        ClusterCertificates.createCa(dir.resolve("ca"), "test", Duration.ofDays(1));
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair carried = g.generateKeyPair();
        java.security.KeyPair signer = g.generateKeyPair();
        byte[] der = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
                new org.bouncycastle.asn1.x500.X500Name("CN=mallory,O=Tributary"), carried.getPublic())
                .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                        .build(signer.getPrivate())).getEncoded();
        Path csr = dir.resolve("mallory.csr");
        Files.writeString(csr, ClusterCertificates.pem("CERTIFICATE REQUEST", der));
        Instant now = Instant.now();
        String why = assertThrows(IllegalArgumentException.class, () -> ClusterCertificates.signRequest(dir.resolve("ca"),
                csr, Set.of("trainer"), now, now.plusSeconds(60), dir.resolve("out"))).getMessage();
        assertTrue(why.contains("is not signed by the key it carries"), why);
        assertTrue(Files.notExists(dir.resolve("out/node.crt")));
        Files.writeString(dir.resolve("junk.csr"), "hello");
        String junk = assertThrows(IllegalArgumentException.class, () -> ClusterCertificates.signRequest(dir.resolve("ca"),
                dir.resolve("junk.csr"), Set.of("trainer"), now, now.plusSeconds(60), dir.resolve("out"))).getMessage();
        assertTrue(junk.contains("is not a PEM certificate request"), junk);
    }

    @Test
    void badFoldersAndCertificatesAreRefusedWithOneLineSaying(@TempDir Path dir) throws Exception {
        ClusterCertificates.createCa(dir.resolve("ca"), "test", Duration.ofDays(1));
        ClusterCertificates.createCa(dir.resolve("other"), "other", Duration.ofDays(1));
        Instant now = Instant.now();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClusterCertificates.createCa(dir.resolve("ca"), "x",
                Duration.ofDays(1))).getMessage().contains("already holds a cluster CA"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClusterCertificates.signNode(dir.resolve("ca"),
                dir.resolve("n"), "n", Set.of("admin"), now, now.plusSeconds(60))).getMessage().contains("role 'admin' is unknown"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClusterCertificates.signNode(dir.resolve("ca"),
                dir.resolve("n"), "bad name", Set.of("ps"), now, now.plusSeconds(60))).getMessage().contains("is invalid"));

        // expired
        ClusterCertificates.signNode(dir.resolve("ca"), dir.resolve("old"), "old", Set.of("ps"),
                now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)));
        String expired = assertThrows(IllegalArgumentException.class, () -> TlsMaterial.loadNode(dir.resolve("old"))).getMessage();
        assertTrue(expired.contains("expired on") && expired.contains("CN=old"), expired);

        // signed by another CA than the folder's ca.crt
        ClusterCertificates.signNode(dir.resolve("other"), dir.resolve("foreign"), "foreign", Set.of("ps"),
                now.minusSeconds(60), now.plusSeconds(3600));
        Files.copy(dir.resolve("ca/ca.crt"), dir.resolve("foreign/ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String foreign = assertThrows(IllegalArgumentException.class, () -> TlsMaterial.loadNode(dir.resolve("foreign"))).getMessage();
        assertTrue(foreign.contains("is not signed by the CA"), foreign);

        // missing files
        String missing = assertThrows(IllegalArgumentException.class, () -> TlsMaterial.loadNode(dir.resolve("nothing"))).getMessage();
        assertTrue(missing.contains("does not exist") && missing.contains("tributary certs"), missing);

        // key of another node
        ClusterCertificates.signNode(dir.resolve("ca"), dir.resolve("a"), "a", Set.of("ps"), now.minusSeconds(60), now.plusSeconds(60));
        ClusterCertificates.signNode(dir.resolve("ca"), dir.resolve("b"), "b", Set.of("ps"), now.minusSeconds(60), now.plusSeconds(60));
        Files.copy(dir.resolve("b/node.key"), dir.resolve("a/node.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String swapped = assertThrows(IllegalArgumentException.class, () -> TlsMaterial.loadNode(dir.resolve("a"))).getMessage();
        assertTrue(swapped.contains("is not the key of"), swapped);
    }
}
