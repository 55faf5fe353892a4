package io.tributary.tls;

import com.typesafe.config.Config;
import java.nio.file.Path;

/**
 * {@code tributary.tls}, read once: whether the cluster runs mutual TLS and where this node's
 * certificate folder is (null when none is set).
 */
public record TlsSettings(boolean enabled, Path dir) {

    public static TlsSettings from(Config root) {
        Config c = root.getConfig("tributary.tls");
        String dir = c.getString("dir").trim();
        return new TlsSettings(c.getBoolean("enabled"), dir.isEmpty() ? null : Path.of(dir));
    }
}
