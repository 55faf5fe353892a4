package io.tributary.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Map.Entry;
import java.util.TreeSet;

/**
 * Loads the configuration once at start-up: command-line overrides, then an optional file, then
 * {@code application.conf}/system properties, then every module's {@code reference.conf}. Every
 * key the user sets under {@code tributary} must exist in a {@code reference.conf} and have
 * the same type; otherwise loading fails with a {@link ConfigError} naming the key and where it
 * was set.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    /**
     * @param file      a HOCON file, or null
     * @param overrides {@code path -> value} from flags (values parsed as HOCON values)
     */
    public static Config load(Path file, Map<String, String> overrides) {
        Config reference = ConfigFactory.defaultReference();
        Config user = ConfigFactory.empty();
        try {
            if (file != null) {
                if (!Files.isRegularFile(file)) {
                    throw new ConfigError("config file " + file + " does not exist or is not a file");
                }
                user = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            }
            Config flags = ConfigFactory.empty();
            for (Entry<String, String> e : overrides.entrySet()) {
                flags = flags.withFallback(ConfigFactory.parseString(e.getKey() + " = " + quoteIfNeeded(e.getValue()),
                        ConfigParseOptions.defaults().setOriginDescription("flag for " + e.getKey())));
            }
            Config app = ConfigFactory.defaultOverrides().withFallback(ConfigFactory.defaultApplication());
            user = flags.withFallback(user).withFallback(app);
            checkKnown(user, reference);
            Config all = user.withFallback(reference).resolve();
            all.checkValid(reference, "tributary");
            return all;
        } catch (ConfigException.ValidationFailed e) {
            ConfigException.ValidationProblem p = e.problems().iterator().next();
            throw new ConfigError("config key 'tributary." + stripRoot(p.path()) + "' "
                    + describe(p.origin()) + ": " + p.problem());
        } catch (ConfigException e) {
            throw new ConfigError("bad configuration: " + oneLine(e.getMessage()));
        }
    }

    private static String stripRoot(String path) {
        return path.startsWith("tributary.") ? path.substring("tributary.".length()) : path;
    }

    private static String quoteIfNeeded(String value) {
        // A flag value like a path or host:port is not valid unquoted HOCON.
        if (value.matches("-?[0-9]+(\\.[0-9]+)?([eE]-?[0-9]+)?|true|false|\\[.*\\]")) {
            return value;
        }
        return ConfigValueQuote.quote(value);
    }

    /** Fails on the first key under {@code tributary} that no reference.conf defines. */
    private static void checkKnown(Config user, Config reference) {
        if (!user.hasPath("tributary")) {
            return;
        }
        TreeSet<String> unknown = new TreeSet<>();
        for (Entry<String, ConfigValue> e : user.getConfig("tributary").entrySet()) {
            String path = "tributary." + e.getKey();
            if (!reference.hasPathOrNull(path) && !underOpenObject(reference, path)) {
                unknown.add(path);
            } else if (reference.hasPath(path)) {
                checkType(user, reference, path);
            }
        }
        if (!unknown.isEmpty()) {
            String path = unknown.first();
            ConfigValue v = user.getValue(path);
            throw new ConfigError("unknown config key '" + path + "' " + describe(v.origin())
                    + ": check the spelling; known keys under '" + parent(path) + "': " + siblings(reference, path));
        }
    }

    /**
     * HOCON's own validation lets a string stand where a number or boolean is expected; read the
     * value with the reference's type so that {@code epochs = many} fails here, naming the key.
     */
    private static void checkType(Config user, Config reference, String path) {
        ConfigValueType want = reference.getValue(path).valueType();
        try {
            switch (want) {
                case NUMBER -> user.getNumber(path);
                case BOOLEAN -> user.getBoolean(path);
                case LIST -> user.getList(path);
                case STRING -> user.getString(path);
                default -> {
                }
            }
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            ConfigValue v = user.getValue(path);
            throw new ConfigError("config key '" + path + "' " + describe(v.origin()) + " must be a "
                    + want.name().toLowerCase(java.util.Locale.ROOT) + " (like the default "
                    + reference.getValue(path).render(com.typesafe.config.ConfigRenderOptions.concise())
                    + ") but is " + v.render(com.typesafe.config.ConfigRenderOptions.concise()));
        }
    }

    /** Objects whose reference default is an empty object accept any key (maps such as per-node settings). */
    private static boolean underOpenObject(Config reference, String path) {
        String p = parent(path);
        while (p.contains(".")) {
            if (reference.hasPath(p) && reference.getValue(p).valueType() == ConfigValueType.OBJECT
                    && reference.getObject(p).isEmpty()) {
                return true;
            }
            p = parent(p);
        }
        return false;
    }

    private static String parent(String path) {
        int i = path.lastIndexOf('.');
        return i < 0 ? path : path.substring(0, i);
    }

    private static String siblings(Config reference, String path) {
        String p = parent(path);
        while (!reference.hasPath(p) && p.contains(".")) {
            p = parent(p);
        }
        if (!reference.hasPath(p) || reference.getValue(p).valueType() != ConfigValueType.OBJECT) {
            return "(none)";
        }
        return String.join(", ", new TreeSet<>(reference.getObject(p).keySet()));
    }

    private static String describe(com.typesafe.config.ConfigOrigin origin) {
        if (origin == null) {
            return "";
        }
        String d = origin.filename() != null ? origin.filename() : origin.description();
        return "(set in " + d + (origin.lineNumber() > 0 && origin.filename() != null ? " line " + origin.lineNumber() : "") + ")";
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\n\\s*", " ");
    }

    /** Quotes a string as a HOCON value. */
    private static final class ConfigValueQuote {
        static String quote(String s) {
            return com.typesafe.config.ConfigValueFactory.fromAnyRef(s).render(
                    com.typesafe.config.ConfigRenderOptions.concise());
        }
    }
}
