package io.tributary.cli;

import java.util.Map;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --set KEY=VALUE}: one config key and its value, both trimmed; the value may hold more
 * {@code =} signs. Whether the key exists is the config loader's to say, with the key's name.
 */
public final class ConfigSetting implements ITypeConverter<Map.Entry<String, String>> {

    @Override
    public Map.Entry<String, String> convert(String keyValue) {
        int eq = keyValue.indexOf('=');
        if (eq <= 0) {
            throw new TypeConversionException("needs KEY=VALUE, got '" + keyValue + "'");
        }
        return Map.entry(keyValue.substring(0, eq).trim(), keyValue.substring(eq + 1).trim());
    }
}
