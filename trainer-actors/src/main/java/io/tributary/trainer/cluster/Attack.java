package io.tributary.trainer.cluster;

import java.util.Arrays;
import java.util.Locale;

/**
 * A Byzantine trainer for robustness experiments ({@code tributary.trainer.attack}): how it
 * corrupts its gradient before sending it. {@link #NONE} everywhere else.
 *
 * <ul>
 *   <li>{@code sign-flip}: sends {@code -g}; {@code scale}: {@code 100 g}; {@code sign-flip-scale}: {@code -100 g};
 *       {@code nan}: every value NaN.</li>
 *   <li>{@code little-is-enough} (Baruch, Baruch and Goldberg, NeurIPS 2019): sends {@code mu - z sigma}
 *       per coordinate, where {@code mu} and {@code sigma} estimate the mean and spread of honest
 *       gradients. An attacker of this project sees only its own data, so it estimates both from its
 *       own recent gradients (exponential averages over steps, weight {@link #LIE_RATE}); its batch is
 *       as large as an honest trainer's, so the spread of its gradients over steps stands for the
 *       spread between trainers. {@code z} = {@link #LIE_Z}: larger than the paper's z for 5 trainers
 *       and 1 attacker (about 0.25), to make the attack stronger, while staying inside one honest
 *       standard deviation per coordinate, where norm and distance screens cannot tell it apart.</li>
 * </ul>
 */
public enum Attack {
    NONE, SIGN_FLIP, SCALE, SIGN_FLIP_SCALE, NAN, LITTLE_IS_ENOUGH;

    /** Weight of one step in the little-is-enough attacker's running mean and variance. */
    public static final float LIE_RATE = 0.1f;
    /** How many estimated standard deviations the little-is-enough attacker moves each coordinate. */
    public static final float LIE_Z = 1.0f;

    /** Parses a config value such as {@code sign-flip}, naming the valid ones on a bad value. */
    public static Attack parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tributary.trainer.attack = '" + value
                    + "' is unknown: use none, sign-flip, scale, sign-flip-scale, nan or little-is-enough", e);
        }
    }

    /** The config name, such as {@code sign-flip}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** A corruptor for gradients of {@code length} values: holds what a stateful attack remembers across steps. */
    public Corruptor corruptor(int length) {
        return new Corruptor(this, length);
    }

    /** Applies one {@link Attack} step by step; allocates only at construction. */
    public static final class Corruptor {
        private final Attack attack;
        private final float[] mean;
        private final float[] meanSq;
        private boolean started;

        Corruptor(Attack attack, int length) {
            this.attack = attack;
            boolean lie = attack == LITTLE_IS_ENOUGH;
            this.mean = lie ? new float[length] : null;
            this.meanSq = lie ? new float[length] : null;
        }

        public Attack attack() {
            return attack;
        }

        /** Corrupts {@code gradient} in place. */
        public void apply(float[] gradient) {
            switch (attack) {
                case NONE -> {
                }
                case NAN -> Arrays.fill(gradient, Float.NaN);
                case SIGN_FLIP -> scale(gradient, -1f);
                case SCALE -> scale(gradient, 100f);
                case SIGN_FLIP_SCALE -> scale(gradient, -100f);
                case LITTLE_IS_ENOUGH -> littleIsEnough(gradient);
            }
        }

        private static void scale(float[] g, float factor) {
            for (int i = 0; i < g.length; i++) {
                g[i] *= factor;
            }
        }

        private void littleIsEnough(float[] g) {
            float keep = started ? 1f - LIE_RATE : 0f;
            float take = 1f - keep;
            for (int i = 0; i < g.length; i++) {
                float m = keep * mean[i] + take * g[i];
                float sq = keep * meanSq[i] + take * g[i] * g[i];
                mean[i] = m;
                meanSq[i] = sq;
                float sigma = (float) Math.sqrt(Math.max(0f, sq - m * m));
                g[i] = m - LIE_Z * sigma;
            }
            started = true;
        }
    }
}
