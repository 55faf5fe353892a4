package io.tributary.demo;

import com.typesafe.config.Config;
import io.tributary.tls.ClusterCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * The demo's throwaway PKI: with {@code tributary.tls.enabled} (the default) a local cluster runs
 * mutual TLS like any other, with a CA made for this run under {@code <run>/tls/ca} and one
 * certificate per node JVM (valid for two days, granting exactly the role it starts with) under
 * {@code <run>/tls/<node>}.
 */
final class DemoCertificates {

    private final Path root;

    private DemoCertificates(Path root) {
        this.root = root;
    }

    /** Null when TLS is off; otherwise a new CA under {@code runDir/tls}. */
    static DemoCertificates create(Config config, Path runDir) throws IOException {
        if (!io.tributary.tls.TlsSettings.from(config).enabled()) {
            return null;
        }
        Path root = runDir.resolve("tls").toAbsolutePath();
        ClusterCertificates.createCa(root.resolve("ca"), "demo", Duration.ofDays(2));
        return new DemoCertificates(root);
    }

    /** The folder of node {@code name}'s certificate with {@code role}, signed on first use. */
    synchronized Path forNode(String name, String role) {
        Path dir = root.resolve(name);
        if (!Files.exists(dir.resolve(ClusterCertificates.NODE_KEY))) {
            Instant now = Instant.now();
            try {
                ClusterCertificates.signNode(root.resolve("ca"), dir, name, Set.of(role), now.minusSeconds(60),
                        now.plus(Duration.ofDays(2)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the demo's certificate for " + name + ": " + e.getMessage(), e);
            }
        }
        return dir;
    }
}
