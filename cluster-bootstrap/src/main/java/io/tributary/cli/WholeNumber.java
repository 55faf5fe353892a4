package io.tributary.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A count the user gives on the command line (JVMs, seconds, days): a whole number of at least 1.
 * The message completes "{@code --trainers} ..." ({@link CommandRunner} puts the option first).
 */
public final class WholeNumber implements ITypeConverter<Integer> {

    @Override
    public Integer convert(String value) {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw wrong(value);
        }
        if (n < 1) {
            throw wrong(value);
        }
        return n;
    }

    private static TypeConversionException wrong(String value) {
        return new TypeConversionException("needs a whole number >= 1, got '" + value + "'");
    }
}
