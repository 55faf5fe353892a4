package io.tributary.trainer.cluster;

import java.util.Arrays;
import java.util.Locale;

/**
 * A Byzantine trainer for robustness experiments ({@code tributary.trainer.attack}): how it
 * corrupts its gradient before sending it. {@link #NONE} everywhere else.
 */
public enum Attack {
    NONE, SIGN_FLIP, SCALE, SIGN_FLIP_SCALE, NAN;

    /** Parses a config value such as {@code sign-flip}, naming the valid ones on a bad value. */
    public static Attack parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tributary.trainer.attack = '" + value
                    + "' is unknown: use none, sign-flip, scale, sign-flip-scale or nan", e);
        }
    }

    /** Corrupts {@code gradient} in place. */
    public void apply(float[] gradient) {
        float factor = switch (this) {
            case NONE, NAN -> 1f;
            case SIGN_FLIP -> -1f;
            case SCALE -> 100f;
            case SIGN_FLIP_SCALE -> -100f;
        };
        if (this == NAN) {
            Arrays.fill(gradient, Float.NaN);
        } else if (factor != 1f) {
            for (int i = 0; i < gradient.length; i++) {
                gradient[i] *= factor;
            }
        }
    }
}
