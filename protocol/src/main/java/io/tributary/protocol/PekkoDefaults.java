package io.tributary.protocol;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import java.util.Map;

/**
 * Tributary's Pekko settings (our serializer, Artery TCP, the Split Brain Resolver, failure
 * detector timings), kept in {@value #RESOURCE} and included by this module's reference.conf.
 * Which reference.conf wins a key depends on classpath order, and in a shaded jar Pekko's own
 * come last and win; {@link #over(Config)} puts ours back wherever a reference.conf decided.
 */
public final class PekkoDefaults {

    /** The classpath resource that holds the settings. */
    public static final String RESOURCE = "io/tributary/protocol/pekko-defaults.conf";

    private PekkoDefaults() {
    }

    /** The settings alone. */
    public static Config config() {
        return ConfigFactory.parseResources(PekkoDefaults.class.getClassLoader(), RESOURCE,
                ConfigParseOptions.defaults().setAllowMissing(false));
    }

    /**
     * {@code loaded} with every key of {@link #RESOURCE} whose value came from some reference.conf
     * replaced by ours; keys a user set (a --config file, application.conf, a flag) are kept.
     */
    public static Config over(Config loaded) {
        Config result = loaded;
        for (Map.Entry<String, ConfigValue> e : config().entrySet()) {
            String path = e.getKey();
            if (!loaded.hasPathOrNull(path) || "reference.conf".equals(loaded.getValue(path).origin().resource())) {
                result = result.withValue(path, e.getValue());
            }
        }
        return result;
    }
}
