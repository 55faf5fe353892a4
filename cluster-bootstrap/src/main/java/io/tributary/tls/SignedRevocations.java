package io.tributary.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A revocation list signed by the cluster's CA, so that it can reach every node through the cluster
 * rather than by hand: {@code certs revoke} signs the CA folder's {@code revoked.txt} into
 * {@value #SIGNATURE_FILE} (SHA256withECDSA over the file's bytes, Base64); a node takes a list only
 * when that signature verifies under its own copy of the CA certificate, and only when the list holds
 * every certificate its current list holds (a list only grows, so an older signed list replayed cannot
 * take a revocation back).
 */
public final class SignedRevocations {

    /** The signature of {@code revoked.txt}, next to it in a CA folder and in a node's TLS folder. */
    public static final String SIGNATURE_FILE = "revoked.sig";

    /** A list and its CA signature, as they travel. */
    public record Update(String list, String signature) {
    }

    private SignedRevocations() {
    }

    /** Signs {@code caDir/revoked.txt} with {@code caDir/ca.key} into {@code caDir/revoked.sig}; returns the update. */
    public static Update sign(Path caDir) throws IOException {
        TlsMaterial.Ca ca = TlsMaterial.loadCa(caDir);
        String list = Files.readString(caDir.resolve(RevocationList.FILE), StandardCharsets.UTF_8);
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(ca.key());
            s.update(list.getBytes(StandardCharsets.UTF_8));
            String sig = Base64.getEncoder().encodeToString(s.sign());
            write(caDir.resolve(SIGNATURE_FILE), sig + "\n");
            return new Update(list, sig);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign the revocation list with " + caDir.resolve(ClusterCertificates.CA_KEY)
                    + ": " + e.getMessage(), e);
        }
    }

    /** The CA folder's signed list, as {@code certs publish} sends it. */
    public static Update read(Path caDir) throws IOException {
        Path list = caDir.resolve(RevocationList.FILE);
        Path sig = caDir.resolve(SIGNATURE_FILE);
        if (!Files.isRegularFile(list) || !Files.isRegularFile(sig)) {
            throw new IllegalArgumentException(caDir + " holds no signed revocation list (" + RevocationList.FILE + " and "
                    + SIGNATURE_FILE + "): revoke a certificate first with tributary certs revoke");
        }
        return new Update(Files.readString(list, StandardCharsets.UTF_8), Files.readString(sig, StandardCharsets.US_ASCII)
                .trim());
    }

    /** Throws, saying why, unless {@code u} is signed by {@code ca} and parses as a revocation list. */
    public static Map<BigInteger, String> verify(Update u, X509Certificate ca) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initVerify(ca.getPublicKey());
            s.update(u.list().getBytes(StandardCharsets.UTF_8));
            byte[] sig;
            try {
                sig = Base64.getDecoder().decode(u.signature().trim());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the revocation list's signature is not Base64: sign it with"
                        + " tributary certs revoke", e);
            }
            if (!s.verify(sig)) {
                throw new IllegalArgumentException("the revocation list's signature does not verify under this cluster's"
                        + " CA " + ClusterCertificates.subjectName(ca) + ": it was altered or signed by another CA");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the revocation list's signature cannot be checked (" + e.getMessage()
                    + "): sign it with tributary certs revoke", e);
        }
        return RevocationList.parse(Path.of("(the signed list)"), List.of(u.list().split("\n", -1)));
    }

    /**
     * Installs {@code u} into {@code tlsDir} (its {@code revoked.txt} and {@code revoked.sig}) when it verifies
     * under {@code ca} and holds every certificate the folder's list holds now and at least one more;
     * the node's {@link RevocationList} reads the file again by itself. Returns whether it was installed
     * (false: the folder has that list already).
     *
     * @throws IllegalArgumentException when the signature fails, the list is malformed, or it lacks a
     *     certificate the current list revokes (an older list)
     */
    public static boolean install(Path tlsDir, Update u, X509Certificate ca) throws IOException {
        Map<BigInteger, String> next = verify(u, ca);
        Path file = tlsDir.resolve(RevocationList.FILE);
        Set<BigInteger> now = Files.isRegularFile(file)
                ? RevocationList.parse(file, Files.readAllLines(file, StandardCharsets.UTF_8)).keySet() : Set.of();
        if (!next.keySet().containsAll(now)) {
            throw new IllegalArgumentException("the signed revocation list lacks certificates this node's list revokes"
                    + " (an older list?): kept the current one");
        }
        if (next.keySet().equals(now) && Files.isRegularFile(tlsDir.resolve(SIGNATURE_FILE))) {
            return false;
        }
        write(tlsDir.resolve(SIGNATURE_FILE), u.signature().trim() + "\n");
        write(file, u.list());
        return true;
    }

    /** Whether {@code tlsDir} holds a signed list, and it if so. */
    public static java.util.Optional<Update> installed(Path tlsDir) throws IOException {
        Path list = tlsDir.resolve(RevocationList.FILE);
        Path sig = tlsDir.resolve(SIGNATURE_FILE);
        if (!Files.isRegularFile(list) || !Files.isRegularFile(sig)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new Update(Files.readString(list, StandardCharsets.UTF_8),
                Files.readString(sig, StandardCharsets.US_ASCII).trim()));
    }

    private static void write(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
