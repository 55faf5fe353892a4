package io.tributary.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    @Test
    void defaultsComeFromTheModulesReferenceConf() {
        Config c = ConfigLoader.load(null, Map.of());
        assertEquals(5, c.getInt("tributary.train.epochs"));
        assertEquals("adam", c.getString("tributary.optimizer.type"));
        assertEquals("auto", c.getString("tributary.backend.mode"));
    }

    @Test
    void fileAndFlagsOverrideDefaultsFlagsWinning() throws IOException {
        Path f = Files.writeString(dir.resolve("run.conf"), "tributary.train { epochs = 3, batch-size = 64 }\n");
        Config c = ConfigLoader.load(f, Map.of("tributary.train.epochs", "7", "tributary.data.dir", "/tmp/x y"));
        assertEquals(7, c.getInt("tributary.train.epochs"));
        assertEquals(64, c.getInt("tributary.train.batch-size"));
        assertEquals("/tmp/x y", c.getString("tributary.data.dir"));
    }

    @Test
    void unknownKeyInAFileIsNamedWithFileAndLine() throws IOException {
        Path f = Files.writeString(dir.resolve("bad.conf"), "tributary {\n  train {\n    epocs = 3\n  }\n}\n");
        ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.load(f, Map.of()));
        assertTrue(e.getMessage().contains("tributary.train.epocs"), e.getMessage());
        assertTrue(e.getMessage().contains("bad.conf line 3"), e.getMessage());
        assertTrue(e.getMessage().contains("epochs"), "lists the known keys: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    @Test
    void unknownKeyFromAFlagIsNamed() {
        ConfigError e = assertThrows(ConfigError.class,
                () -> ConfigLoader.load(null, Map.of("tributary.optimiser.type", "sgd")));
        assertTrue(e.getMessage().contains("tributary.optimiser"), e.getMessage());
    }

    @Test
    void illTypedKeyIsNamedWithItsPath() throws IOException {
        Path f = Files.writeString(dir.resolve("typed.conf"), "tributary.train.epochs = many\n");
        ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.load(f, Map.of()));
        assertTrue(e.getMessage().contains("tributary.train.epochs"), e.getMessage());
        assertTrue(e.getMessage().contains("typed.conf"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    @Test
    void missingFileAndSyntaxErrorsAreOneLine() throws IOException {
        ConfigError missing = assertThrows(ConfigError.class,
                () -> ConfigLoader.load(dir.resolve("nope.conf"), Map.of()));
        assertTrue(missing.getMessage().contains("nope.conf"), missing.getMessage());
        Path f = Files.writeString(dir.resolve("broken.conf"), "tributary.train {\n epochs = \n");
        ConfigError broken = assertThrows(ConfigError.class, () -> ConfigLoader.load(f, Map.of()));
        assertTrue(broken.getMessage().contains("broken.conf"), broken.getMessage());
        assertFalse(broken.getMessage().contains("\n"), "one line");
    }

    @Test
    void shippedConfigFilesAreValid() throws IOException {
        Path configDir = Path.of(System.getProperty("user.dir")).getParent().resolve("config");
        try (var files = Files.list(configDir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".conf")).toList()) {
                ConfigLoader.load(f, Map.of());
            }
        }
    }
}
