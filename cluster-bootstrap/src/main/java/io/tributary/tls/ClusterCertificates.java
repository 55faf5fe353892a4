package io.tributary.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The cluster's certificate authority and its node certificates ({@code tributary certs}).
 *
 * <p>Keys are EC P-256, signatures SHA256withECDSA. A CA folder holds {@value #CA_CERT} and
 * {@value #CA_KEY}; a node folder holds {@value #NODE_CERT}, {@value #NODE_KEY} (PKCS#8) and a copy of
 * {@value #CA_CERT}, all PEM. A node certificate names the node (CN) and carries the roles it may
 * take in its subject alternative names, as one URI {@code urn:tributary:roles:ps,trainer}; it is
 * valid for both TLS client and server use (every node is both). Key files are written owner-only.
 */
public final class ClusterCertificates {

    public static final String CA_CERT = "ca.crt";
    public static final String CA_KEY = "ca.key";
    public static final String NODE_CERT = "node.crt";
    public static final String NODE_KEY = "node.key";

    /** The SAN URI prefix that carries a node's roles. */
    public static final String ROLES_URI_PREFIX = "urn:tributary:roles:";

    /** Roles a certificate may grant: what {@code tributary node --roles} accepts. */
    public static final Set<String> KNOWN_ROLES = Set.of("coordinator", "ps", "trainer");

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private ClusterCertificates() {
    }

    /** Creates a new CA in {@code dir} (which must not hold one yet), valid from now for {@code validity}. */
    public static X509Certificate createCa(Path dir, String name, Duration validity) throws IOException {
        requireName(name);
        Path cert = dir.resolve(CA_CERT);
        if (Files.exists(cert) || Files.exists(dir.resolve(CA_KEY))) {
            throw new IllegalArgumentException(dir + " already holds a cluster CA (" + CA_CERT + "/" + CA_KEY
                    + "): use it to sign node certificates, or pick an empty folder");
        }
        Files.createDirectories(dir);
        KeyPair keys = newKeyPair();
        X500Name subject = subject(name + " cluster CA");
        Instant now = Instant.now();
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minusSeconds(60)), Date.from(now.plus(validity)), subject, keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate ca = sign(b, keys.getPrivate());
            writeKey(dir.resolve(CA_KEY), keys.getPrivate());
            writeAtomically(cert, pem("CERTIFICATE", ca.getEncoded()));
            return ca;
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot create the cluster CA: " + e.getMessage(), e);
        }
    }

    /**
     * Signs a certificate for node {@code name} with {@code roles}, valid over [notBefore, notAfter],
     * with the CA in {@code caDir}, and writes node.crt, node.key and ca.crt into {@code outDir}.
     */
    public static X509Certificate signNode(Path caDir, Path outDir, String name, Set<String> roles, Instant notBefore,
                                           Instant notAfter) throws IOException {
        requireName(name);
        for (String r : roles) {
            if (!KNOWN_ROLES.contains(r)) {
                throw new IllegalArgumentException("role '" + r + "' is unknown: a certificate may grant " + new TreeSet<>(KNOWN_ROLES));
            }
        }
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("the certificate would expire before it starts: " + notBefore + " .. " + notAfter);
        }
        TlsMaterial.Ca ca = TlsMaterial.loadCa(caDir);
        if (Files.exists(outDir.resolve(NODE_KEY))) {
            throw new IllegalArgumentException(outDir + " already holds a node key (" + NODE_KEY
                    + "): pick an empty folder for each node");
        }
        Files.createDirectories(outDir);
        KeyPair keys = newKeyPair();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate(), serial(),
                    Date.from(notBefore), Date.from(notAfter), subject(name), keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                    new GeneralName(GeneralName.uniformResourceIdentifier, rolesUri(roles))));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()));
            X509Certificate cert = sign(b, ca.key());
            writeKey(outDir.resolve(NODE_KEY), keys.getPrivate());
            writeAtomically(outDir.resolve(NODE_CERT), pem("CERTIFICATE", cert.getEncoded()));
            writeAtomically(outDir.resolve(CA_CERT), pem("CERTIFICATE", ca.certificate().getEncoded()));
            Path revoked = caDir.resolve(RevocationList.FILE);
            if (Files.exists(revoked)) {
                Files.copy(revoked, outDir.resolve(RevocationList.FILE), StandardCopyOption.REPLACE_EXISTING);
            }
            return cert;
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot sign the node certificate: " + e.getMessage(), e);
        }
    }

    /**
     * Revokes the node certificate in {@code certFile}, which this CA must have signed: appends its
     * serial, subject, the time and {@code reason} to {@code caDir/revoked.txt}. Returns the certificate.
     */
    public static X509Certificate revoke(Path caDir, Path certFile, String reason) throws IOException {
        TlsMaterial.Ca ca = TlsMaterial.loadCa(caDir);
        X509Certificate cert = TlsMaterial.readCertificate(certFile, "the certificate to revoke");
        try {
            cert.verify(ca.certificate().getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(certFile + " (" + subjectName(cert) + ") was not signed by the CA in "
                    + caDir + ": revoke it with the CA that signed it", e);
        }
        Path list = caDir.resolve(RevocationList.FILE);
        RevocationList current = RevocationList.load(caDir);
        if (current.reason(cert).isPresent()) {
            throw new IllegalArgumentException(subjectName(cert) + " (serial "
                    + RevocationList.serialHex(cert.getSerialNumber()) + ") is already revoked in " + list);
        }
        String text = Files.exists(list) ? Files.readString(list, StandardCharsets.UTF_8) : "# certificates revoked by this"
                + " cluster's operator: serial (hex), subject, time, reason; copy this file into every node's TLS folder\n";
        if (!text.isEmpty() && !text.endsWith("\n")) {
            text += "\n";
        }
        Path tmp = list.resolveSibling(RevocationList.FILE + ".tmp");
        Files.writeString(tmp, text + RevocationList.line(cert, reason) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, list, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return cert;
    }

    /** The roles {@code cert} grants (empty when it carries none). */
    public static Set<String> grantedRoles(X509Certificate cert) {
        Set<String> roles = new TreeSet<>();
        Collection<List<?>> names;
        try {
            names = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("certificate " + subjectName(cert) + " has unreadable alternative names: "
                    + e.getMessage(), e);
        }
        if (names == null) {
            return roles;
        }
        for (List<?> n : names) {
            if (n.size() == 2 && Integer.valueOf(GeneralName.uniformResourceIdentifier).equals(n.get(0))
                    && n.get(1) instanceof String uri && uri.startsWith(ROLES_URI_PREFIX)) {
                for (String r : uri.substring(ROLES_URI_PREFIX.length()).split(",")) {
                    if (!r.isBlank()) {
                        roles.add(r.trim());
                    }
                }
            }
        }
        return roles;
    }

    /** The certificate's subject, e.g. {@code CN=alice,O=Tributary}. */
    public static String subjectName(X509Certificate cert) {
        return cert.getSubjectX500Principal().getName();
    }

    static String rolesUri(Set<String> roles) {
        return ROLES_URI_PREFIX + String.join(",", new TreeSet<>(roles));
    }

    private static void requireName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name '" + name + "' is invalid: use 1 to 64 letters, digits, '.', '_' or '-'");
        }
    }

    private static X500Name subject(String cn) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Tributary").addRDN(BCStyle.CN, cn).build();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make EC P-256 keys: " + e.getMessage(), e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    }

    static String pem(String type, byte[] der) {
        StringWriter w = new StringWriter();
        w.write("-----BEGIN " + type + "-----\n");
        w.write(Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der));
        w.write("\n-----END " + type + "-----\n");
        return w.toString();
    }

    private static void writeKey(Path file, PrivateKey key) throws IOException {
        writeAtomically(file, pem("PRIVATE KEY", key.getEncoded()));
    }

    /** Writes owner-read/write-only (where the file system has POSIX permissions), via a temporary file and a rename. */
    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system (Windows): the folder's own permissions apply
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
