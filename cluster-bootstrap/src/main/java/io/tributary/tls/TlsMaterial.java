package io.tributary.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Date;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** Loads and checks the PEM files of {@link ClusterCertificates}; builds the TLS context a node uses. */
public final class TlsMaterial {

    /** The CA's certificate and key (only where node certificates are signed). */
    public record Ca(X509Certificate certificate, PrivateKey key) {
    }

    /** A node's key, its certificate, the roles it grants, and the cluster CA it trusts. */
    public record Node(PrivateKey key, X509Certificate certificate, X509Certificate ca, Set<String> roles) {
    }

    private TlsMaterial() {
    }

    /** Reads a CA folder ({@code tributary certs init}). */
    public static Ca loadCa(Path dir) throws IOException {
        X509Certificate cert = readCertificate(dir.resolve(ClusterCertificates.CA_CERT), "the cluster CA's certificate");
        PrivateKey key = readKey(dir.resolve(ClusterCertificates.CA_KEY), "the cluster CA's key");
        if (cert.getBasicConstraints() < 0) {
            throw new IllegalArgumentException(dir.resolve(ClusterCertificates.CA_CERT) + " is not a CA certificate");
        }
        requireKeyMatches(key, cert, dir.resolve(ClusterCertificates.CA_KEY));
        return new Ca(cert, key);
    }

    /**
     * Reads a node folder ({@code tributary certs sign}) and checks it: the certificate is signed by
     * the folder's CA, valid now, and matches the key. Each failure is one line naming the file and
     * what to do.
     */
    public static Node loadNode(Path dir) throws IOException {
        return loadNode(dir, true);
    }

    /** As {@link #loadNode(Path)}; {@code checkValidity} false skips the date check (tests of the peers' check). */
    public static Node loadNode(Path dir, boolean checkValidity) throws IOException {
        Path certFile = dir.resolve(ClusterCertificates.NODE_CERT);
        X509Certificate cert = readCertificate(certFile, "this node's certificate");
        X509Certificate ca = readCertificate(dir.resolve(ClusterCertificates.CA_CERT), "the cluster CA's certificate");
        PrivateKey key = readKey(dir.resolve(ClusterCertificates.NODE_KEY), "this node's key");
        try {
            cert.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(certFile + " (" + ClusterCertificates.subjectName(cert)
                    + ") is not signed by the CA in " + dir.resolve(ClusterCertificates.CA_CERT)
                    + ": sign it again with this cluster's CA (tributary certs sign)", e);
        }
        try {
            if (checkValidity) {
                cert.checkValidity(new Date());
            }
        } catch (CertificateExpiredException e) {
            throw new IllegalArgumentException(certFile + " (" + ClusterCertificates.subjectName(cert) + ") expired on "
                    + cert.getNotAfter().toInstant() + ": ask the cluster's operator for a new one (tributary certs sign)", e);
        } catch (CertificateNotYetValidException e) {
            throw new IllegalArgumentException(certFile + " (" + ClusterCertificates.subjectName(cert)
                    + ") is not valid before " + cert.getNotBefore().toInstant() + ": check this machine's clock", e);
        }
        requireKeyMatches(key, cert, dir.resolve(ClusterCertificates.NODE_KEY));
        return new Node(key, cert, ca, ClusterCertificates.grantedRoles(cert));
    }

    /**
     * A TLS 1.3 context that presents {@code node}'s certificate and trusts only certificates its
     * CA signed (PKIX: signature chain and validity dates).
     */
    public static SSLContext context(Node node, X509TrustManager trust) {
        try {
            char[] none = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, none);
            keys.setKeyEntry("node", node.key(), none, new java.security.cert.Certificate[] {node.certificate(), node.ca()});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, none);
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(kmf.getKeyManagers(), new TrustManager[] {trust}, new SecureRandom());
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build the TLS context: " + e.getMessage(), e);
        }
    }

    /** The JDK's PKIX trust manager with {@code ca} as the only anchor. */
    public static X509TrustManager trustOnly(X509Certificate ca) {
        try {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, new char[0]);
            anchors.setCertificateEntry("cluster-ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(anchors);
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("the JDK offers no X509 trust manager");
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build the trust manager: " + e.getMessage(), e);
        }
    }

    static X509Certificate readCertificate(Path file, String what) throws IOException {
        byte[] bytes = read(file, what);
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(bytes));
        } catch (CertificateException e) {
            throw new IllegalArgumentException(file + " is not a PEM certificate (" + what + "): " + e.getMessage(), e);
        }
    }

    static PrivateKey readKey(Path file, String what) throws IOException {
        String text = new String(read(file, what), StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException(file + " is not a PKCS#8 PEM private key (" + what
                    + "): it must hold -----BEGIN PRIVATE KEY-----");
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " is not a readable EC private key (" + what + "): " + e.getMessage(), e);
        }
    }

    private static byte[] read(Path file, String what) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + " does not exist (" + what + "): create it with tributary certs,"
                    + " or point tributary.tls.dir at the folder that holds it", e);
        }
    }

    private static void requireKeyMatches(PrivateKey key, X509Certificate cert, Path keyFile) {
        try {
            byte[] probe = "tributary key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            s.initVerify(cert.getPublicKey());
            s.update(probe);
            if (!s.verify(sig)) {
                throw new IllegalArgumentException(keyFile + " is not the key of " + ClusterCertificates.subjectName(cert)
                        + "'s certificate: keep each node's node.key with its node.crt");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(keyFile + " cannot sign for " + ClusterCertificates.subjectName(cert) + ": "
                    + e.getMessage(), e);
        }
    }
}
