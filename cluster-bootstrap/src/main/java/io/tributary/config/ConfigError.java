package io.tributary.config;

/** The configuration is wrong; the message names the key, where it was set and what to do. */
public final class ConfigError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ConfigError(String oneLine) {
        super(oneLine);
    }
}
