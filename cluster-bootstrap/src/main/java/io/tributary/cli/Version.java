package io.tributary.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code tributary --version}: the project version Maven built (version.properties next to this
 * class, filtered at build time, so it is right in the shaded jar and in tests alike) and the Java
 * that runs it.
 */
final class Version implements IVersionProvider {

    static final String RESOURCE = "version.properties";

    @Override
    public String[] getVersion() throws IOException {
        return new String[] {
            "tributary " + project(),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ", "
                    + System.getProperty("java.vendor") + ")"};
    }

    /** The project version, e.g. {@code 0.1.0-SNAPSHOT}. */
    static String project() throws IOException {
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path: rebuild with ./mvnw package");
            }
            Properties p = new Properties();
            p.load(in);
            String version = p.getProperty("version", "");
            if (version.isBlank() || version.startsWith("${")) {
                throw new IllegalStateException(RESOURCE + " holds no project version ('" + version
                        + "'): rebuild with ./mvnw package, which fills it in");
            }
            return version;
        }
    }
}
