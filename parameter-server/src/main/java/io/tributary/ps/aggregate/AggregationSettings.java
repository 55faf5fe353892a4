package io.tributary.ps.aggregate;

import com.typesafe.config.Config;
import java.util.Locale;

/**
 * How a shard screens and aggregates gradients, read once from {@code tributary.trust} and validated.
 *
 * @param mode            {@link Mode#TRUSTED} or {@link Mode#UNTRUSTED}; picks the rule when {@code aggregation = auto}
 * @param rule            the aggregation rule, {@code auto} already resolved (mean when trusted, centered clipping when not)
 * @param trimFraction    trimmed mean: the fraction f of trainers dropped at each end per coordinate, in [0, 0.5)
 * @param clipTau         centered clipping: the radius tau each trainer's deviation from the center is clipped to, &gt; 0
 * @param clipIterations  centered clipping: how many clipping iterations per step, 1..100
 * @param clipMomentum    centered clipping: the per-trainer momentum the rule keeps, in [0, 1)
 * @param maxGradientNorm the largest L2 norm a trainer's gradient slice may have on a shard; 0: no bound
 */
public record AggregationSettings(Mode mode, Rule rule, float trimFraction, float clipTau, int clipIterations,
                                  float clipMomentum, double maxGradientNorm) {

    /** Whether the trainers are trusted; untrusted makes a robust rule the default. */
    public enum Mode {
        TRUSTED, UNTRUSTED;

        static Mode parse(String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tributary.trust.mode = '" + value
                        + "' is unknown: use trusted or untrusted", e);
            }
        }

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The aggregation rules a shard can apply. */
    public enum Rule {
        MEAN, TRIMMED_MEAN, MEDIAN, CENTERED_CLIPPING;

        /** Parses a config value; {@code auto} resolves by {@code mode}. */
        static Rule parse(String value, Mode mode) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            if (v.equals("auto")) {
                return mode == Mode.UNTRUSTED ? CENTERED_CLIPPING : MEAN;
            }
            for (Rule r : values()) {
                if (r.configName().equals(v)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("tributary.trust.aggregation = '" + value
                    + "' is unknown: use auto, mean, trimmed-mean, median or centered-clipping");
        }

        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public AggregationSettings {
        if (mode == null || rule == null) {
            throw new IllegalArgumentException("tributary.trust: mode and aggregation must be set");
        }
        require(trimFraction >= 0 && trimFraction < 0.5f, "trim-fraction", trimFraction, "in [0, 0.5)");
        require(clipTau > 0 && Float.isFinite(clipTau), "clip-tau", clipTau, "a finite number > 0");
        require(clipIterations >= 1 && clipIterations <= 100, "clip-iterations", clipIterations, "in 1..100");
        require(clipMomentum >= 0 && clipMomentum < 1, "clip-momentum", clipMomentum, "in [0, 1)");
        require(maxGradientNorm >= 0 && Double.isFinite(maxGradientNorm), "max-gradient-norm", maxGradientNorm,
                "a finite number >= 0 (0: no bound)");
    }

    private static void require(boolean ok, String key, double value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("tributary.trust." + key + " = " + value + " is invalid: it must be " + rule);
        }
    }

    /** Trusted trainers, plain mean, no norm bound: the behaviour before robust aggregation existed. */
    public static AggregationSettings trustedMean() {
        return new AggregationSettings(Mode.TRUSTED, Rule.MEAN, 0.2f, 10f, 3, 0.9f, 0);
    }

    /** The same settings with another rule (tests, benchmarks). */
    public AggregationSettings withRule(Rule other) {
        return new AggregationSettings(mode, other, trimFraction, clipTau, clipIterations, clipMomentum, maxGradientNorm);
    }

    /** Reads the {@code tributary.trust} block. */
    public static AggregationSettings from(Config root) {
        Config c = root.getConfig("tributary.trust");
        Mode mode = Mode.parse(c.getString("mode"));
        return new AggregationSettings(mode, Rule.parse(c.getString("aggregation"), mode),
                (float) c.getDouble("trim-fraction"), (float) c.getDouble("clip-tau"), c.getInt("clip-iterations"),
                (float) c.getDouble("clip-momentum"), c.getDouble("max-gradient-norm"));
    }
}
