package io.tributary.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/** A cluster CA in a temporary folder and node certificates signed by it, for tests. */
public final class TestPki {

    private final Path root;
    private int next;

    public TestPki(String name) {
        try {
            this.root = Files.createTempDirectory("tributary-pki-" + name);
            ClusterCertificates.createCa(root.resolve("ca"), name, Duration.ofDays(1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A node folder granting {@code roles}, valid from a minute ago for a day. */
    public Path node(String... roles) {
        Instant now = Instant.now();
        return node(now.minusSeconds(60), now.plus(Duration.ofDays(1)), roles);
    }

    /** A node folder granting {@code roles}, valid over [notBefore, notAfter]. */
    public synchronized Path node(Instant notBefore, Instant notAfter, String... roles) {
        Path dir = root.resolve("node-" + (++next));
        try {
            ClusterCertificates.signNode(root.resolve("ca"), dir, "node-" + next, Set.of(roles), notBefore, notAfter);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    public Path caDir() {
        return root.resolve("ca");
    }
}
