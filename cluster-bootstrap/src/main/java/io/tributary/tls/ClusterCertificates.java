package io.tributary.tls;

import java.security.PublicKey;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
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
    /** A volunteer's certificate request ({@link #request}). */
    public static final String NODE_CSR = "node.csr";

    /** The SAN URI prefix that carries a node's roles. */
    public static final String ROLES_URI_PREFIX = "urn:tributary:roles:";

    /** Roles a certificate may grant: what {@code tributary node --roles} accepts. */
    public static final Set<String> KNOWN_ROLES = Set.of("coordinator", "ps", "trainer", "observer");

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
        checkRoles(roles, notBefore, notAfter);
        TlsMaterial.Ca ca = TlsMaterial.loadCa(caDir);
        if (Files.exists(outDir.resolve(NODE_KEY))) {
            throw new IllegalArgumentException(outDir + " already holds a node key (" + NODE_KEY
                    + "): pick an empty folder for each node");
        }
        Files.createDirectories(outDir);
        KeyPair keys = newKeyPair();
        X509Certificate cert = issue(ca, name, roles, keys.getPublic(), notBefore, notAfter);
        writeKey(outDir.resolve(NODE_KEY), keys.getPrivate());
        writeIssued(caDir, outDir, ca, cert);
        return cert;
    }

    /**
     * The volunteer's side of keys that never travel: makes this node's key pair in {@code outDir}
     * ({@code node.key}, owner-only from the moment it exists) and a PKCS#10 certificate request for
     * {@code name} signed with it ({@code node.csr}), which is all the operator needs to see. Returns the
     * request's file.
     */
    public static Path request(Path outDir, String name) throws IOException {
        requireName(name);
        if (Files.exists(outDir.resolve(NODE_KEY))) {
            throw new IllegalArgumentException(outDir + " already holds a node key (" + NODE_KEY
                    + "): pick an empty folder for each node");
        }
        Files.createDirectories(outDir);
        KeyPair keys = newKeyPair();
        try {
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(subject(name), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
            writeKey(outDir.resolve(NODE_KEY), keys.getPrivate());
            Path file = outDir.resolve(NODE_CSR);
            writeAtomically(file, pem("CERTIFICATE REQUEST", csr.getEncoded()));
            return file;
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot make the certificate request: " + e.getMessage(), e);
        }
    }

    /**
     * The operator's side: signs the request in {@code csrFile} (made by {@link #request}) with the CA in
     * {@code caDir}, for the name the request carries and {@code roles}, and writes node.crt and ca.crt
     * (and the CA's revocation list) into {@code outDir}: no key is made, read or written. The request
     * must be signed by the key it carries (proof that its sender holds that key).
     */
    public static X509Certificate signRequest(Path caDir, Path csrFile, Set<String> roles, Instant notBefore,
                                              Instant notAfter, Path outDir) throws IOException {
        checkRoles(roles, notBefore, notAfter);
        PKCS10CertificationRequest csr = readRequest(csrFile);
        String name = commonName(csr.getSubject(), csrFile);
        requireName(name);
        PublicKey key;
        try {
            JcaPKCS10CertificationRequest jca = new JcaPKCS10CertificationRequest(csr);
            key = jca.getPublicKey();
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                throw new IllegalArgumentException(csrFile + " is not signed by the key it carries: it was altered or"
                        + " made wrongly; ask the volunteer for a new one (tributary certs request)");
            }
        } catch (GeneralSecurityException | OperatorCreationException | PKCSException e) {
            throw new IllegalArgumentException(csrFile + " cannot be checked (" + e.getMessage()
                    + "): ask the volunteer for a new one (tributary certs request)", e);
        }
        if (!"EC".equals(key.getAlgorithm())) {
            throw new IllegalArgumentException(csrFile + " carries a " + key.getAlgorithm() + " key; the cluster uses"
                    + " EC P-256 keys: make the request with tributary certs request");
        }
        TlsMaterial.Ca ca = TlsMaterial.loadCa(caDir);
        Files.createDirectories(outDir);
        X509Certificate cert = issue(ca, name, roles, key, notBefore, notAfter);
        writeIssued(caDir, outDir, ca, cert);
        return cert;
    }

    private static PKCS10CertificationRequest readRequest(Path csrFile) throws IOException {
        if (!Files.isRegularFile(csrFile)) {
            throw new IllegalArgumentException("no certificate request at " + csrFile
                    + ": the volunteer makes one with tributary certs request DIR --name NAME");
        }
        String text = Files.readString(csrFile, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN CERTIFICATE REQUEST-----";
        String end = "-----END CERTIFICATE REQUEST-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException(csrFile + " is not a PEM certificate request (no " + begin + " line)");
        }
        try {
            return new PKCS10CertificationRequest(Base64.getMimeDecoder().decode(
                    text.substring(from + begin.length(), to)));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(csrFile + " is not a readable certificate request: " + e.getMessage(), e);
        }
    }

    private static String commonName(X500Name subject, Path csrFile) {
        org.bouncycastle.asn1.x500.RDN[] cn = subject.getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN);
        if (cn.length != 1) {
            throw new IllegalArgumentException(csrFile + " names no single node (CN) in its subject " + subject);
        }
        return org.bouncycastle.asn1.x500.style.IETFUtils.valueToString(cn[0].getFirst().getValue());
    }

    private static void checkRoles(Set<String> roles, Instant notBefore, Instant notAfter) {
        for (String r : roles) {
            if (!KNOWN_ROLES.contains(r)) {
                throw new IllegalArgumentException("role '" + r + "' is unknown: a certificate may grant " + new TreeSet<>(KNOWN_ROLES));
            }
        }
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("the certificate would expire before it starts: " + notBefore + " .. " + notAfter);
        }
    }

    /** A node certificate for {@code name} with {@code roles} over {@code key}, signed by {@code ca}. */
    private static X509Certificate issue(TlsMaterial.Ca ca, String name, Set<String> roles, PublicKey key,
                                         Instant notBefore, Instant notAfter) {
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate(), serial(),
                    Date.from(notBefore), Date.from(notAfter), subject(name), key);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                    new GeneralName(GeneralName.uniformResourceIdentifier, rolesUri(roles))));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()));
            return sign(b, ca.key());
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot sign the node certificate: " + e.getMessage(), e);
        }
    }

    /** Writes the issued certificate, the CA's and the CA's revocation list into {@code outDir}. */
    private static void writeIssued(Path caDir, Path outDir, TlsMaterial.Ca ca, X509Certificate cert) throws IOException {
        try {
            writeAtomically(outDir.resolve(NODE_CERT), pem("CERTIFICATE", cert.getEncoded()));
            writeAtomically(outDir.resolve(CA_CERT), pem("CERTIFICATE", ca.certificate().getEncoded()));
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode the node certificate: " + e.getMessage(), e);
        }
        for (String name : new String[] {RevocationList.FILE, SignedRevocations.SIGNATURE_FILE}) {
            Path file = caDir.resolve(name);
            if (Files.exists(file)) {
                Files.copy(file, outDir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
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
                + " cluster's operator: serial (hex), subject, time, reason; publish it (tributary certs publish) or copy it,"
                + " with revoked.sig, into every node's TLS folder\n";
        if (!text.isEmpty() && !text.endsWith("\n")) {
            text += "\n";
        }
        Path tmp = list.resolveSibling(RevocationList.FILE + ".tmp");
        Files.writeString(tmp, text + RevocationList.line(cert, reason) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, list, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        SignedRevocations.sign(caDir); // so that it can travel through the cluster (tributary certs publish)
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

    /**
     * Writes owner-read/write-only (where the file system has POSIX permissions) from the moment the file
     * exists — it is created with those permissions before a byte is written, so a key is never readable
     * by others, not even briefly — via a temporary file and a rename.
     */
    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(tmp); // not a POSIX file system (Windows): the folder's own permissions apply
        }
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
