package io.tributary.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificates the cluster's operator has revoked: the file {@value #FILE}, one line per
 * certificate, {@code SERIAL-HEX [anything else: subject, date, reason]}, {@code #} starting a comment.
 * {@code tributary certs revoke} appends to the CA folder's copy; the operator copies it into each
 * node's TLS folder, where nodes read it again whenever it changes: a revoked certificate is refused
 * in every TLS handshake, and a member that holds one is downed.
 *
 * <p>A missing file means nothing is revoked. A file that cannot be parsed keeps the last good list
 * and is reported (at the first load it is an error: the node refuses to start).
 */
public final class RevocationList {

    /** The file's name, in a CA folder and in a node's TLS folder. */
    public static final String FILE = "revoked.txt";

    private static final Logger LOG = LoggerFactory.getLogger(RevocationList.class);

    private final Path file;
    private volatile Map<BigInteger, String> revoked = Map.of();
    private FileTime loadedTime;
    private long loadedSize = -1;

    private RevocationList(Path file) {
        this.file = file;
    }

    /** Loads {@code dir/revoked.txt} (absent: empty); a malformed file is a one-line error naming the line. */
    public static RevocationList load(Path dir) throws IOException {
        RevocationList list = new RevocationList(dir.resolve(FILE));
        list.reloadIfChanged(true);
        return list;
    }

    /** Why {@code cert} is revoked (its line of the file), or empty when it is not; re-reads a changed file first. */
    public Optional<String> reason(X509Certificate cert) {
        refresh();
        return Optional.ofNullable(revoked.get(cert.getSerialNumber()));
    }

    /** How many certificates are revoked (after re-reading a changed file). */
    public int size() {
        refresh();
        return revoked.size();
    }

    /** The file this list reads. */
    public Path file() {
        return file;
    }

    private void refresh() {
        try {
            reloadIfChanged(false);
        } catch (IOException | IllegalArgumentException e) {
            LOG.error("cannot read the revocation list {} again: {}; the {} revocation(s) read before still apply",
                    file, e.getMessage(), revoked.size());
        }
    }

    private synchronized void reloadIfChanged(boolean first) throws IOException {
        FileTime time;
        long size;
        try {
            time = Files.getLastModifiedTime(file);
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            if (!revoked.isEmpty()) {
                LOG.warn("the revocation list {} is gone: the {} revocation(s) read before still apply", file,
                        revoked.size());
            }
            return;
        }
        if (!first && time.equals(loadedTime) && size == loadedSize) {
            return;
        }
        Map<BigInteger, String> next = parse(file, Files.readAllLines(file, StandardCharsets.UTF_8));
        loadedTime = time;
        loadedSize = size;
        if (!first && next.size() != revoked.size()) {
            LOG.warn("revocation list {} read again: {} certificate(s) revoked", file, next.size());
        }
        revoked = Map.copyOf(next);
    }

    static Map<BigInteger, String> parse(Path file, List<String> lines) {
        Map<BigInteger, String> out = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String text = (hash >= 0 ? line.substring(0, hash) : line).trim();
            if (text.isEmpty()) {
                continue;
            }
            String serial = text.split("\\s+", 2)[0];
            try {
                out.put(new BigInteger(serial, 16), line.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": '" + serial
                        + "' is not a certificate serial number in hex (write it with tributary certs revoke)", e);
            }
        }
        return out;
    }

    /** The line {@code certs revoke} appends for {@code cert}. */
    static String line(X509Certificate cert, String reason) {
        return serialHex(cert.getSerialNumber()) + "  " + ClusterCertificates.subjectName(cert).replace(' ', '_') + "  "
                + Instant.now().toString() + (reason == null || reason.isBlank() ? "" : "  " + reason.replace('\n', ' '));
    }

    /** A serial number as this file writes it. */
    public static String serialHex(BigInteger serial) {
        return serial.toString(16).toLowerCase(Locale.ROOT);
    }
}
