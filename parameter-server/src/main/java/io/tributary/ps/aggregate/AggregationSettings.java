package io.tributary.ps.aggregate;

import com.typesafe.config.Config;
import java.util.Locale;

/**
 * How a shard screens and aggregates gradients, read once from {@code tributary.trust} and validated.
 *
 * @param mode            {@link Mode#TRUSTED} or {@link Mode#UNTRUSTED}; picks the rule when {@code aggregation = auto}
 * @param rule            the aggregation rule, {@code auto} already resolved (mean when trusted, centered clipping when not)
 * @param trimFraction    trimmed mean: the fraction f of trainers dropped at each end per coordinate, in [0, 0.5)
 * @param clipTau         centered clipping: the radius tau each trainer's deviation from the center is clipped to, &gt; 0;
 *                        {@link #AUTO_TAU}: each iteration's median distance of the trainers to the center
 * @param clipIterations  centered clipping: how many clipping iterations per step, 1..100
 * @param clipMomentum    centered clipping: the per-trainer momentum the rule keeps, in [0, 1)
 * @param maxGradientNorm the largest L2 norm a trainer's gradient slice may have on a shard; 0: no bound
 * @param outlierFactor   robust rules: a slice further from the step's aggregate than this many times the median
 *                        trainer's distance counts against its trainer's reputation; 0: off
 * @param biasThreshold   robust rules: a trainer whose deviations from the aggregate keep pointing the same way
 *                        (running cosine above this, see {@link BiasScreen}) is left out of the aggregate; 0: off
 * @param biasWarmup      steps a trainer is screened for bias before it can be left out, &gt;= 1
 */
public record AggregationSettings(Mode mode, Rule rule, float trimFraction, float clipTau, int clipIterations,
                                  float clipMomentum, double maxGradientNorm, float outlierFactor,
                                  float biasThreshold, int biasWarmup) {

    /** {@link #clipTau()} value meaning "from the trainers' spread" ({@code clip-tau = auto}). */
    public static final float AUTO_TAU = 0f;

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
        require(clipTau == AUTO_TAU || (clipTau > 0 && Float.isFinite(clipTau)), "clip-tau", clipTau,
                "auto or a finite number > 0");
        require(clipIterations >= 1 && clipIterations <= 100, "clip-iterations", clipIterations, "in 1..100");
        require(clipMomentum >= 0 && clipMomentum < 1, "clip-momentum", clipMomentum, "in [0, 1)");
        require(maxGradientNorm >= 0 && Double.isFinite(maxGradientNorm), "max-gradient-norm", maxGradientNorm,
                "a finite number >= 0 (0: no bound)");
        require(outlierFactor == 0 || (outlierFactor >= 1 && Float.isFinite(outlierFactor)), "outlier-factor",
                outlierFactor, "0 (off) or a finite number >= 1");
        require(biasThreshold == 0 || (biasThreshold > 0 && biasThreshold < 1), "bias-threshold", biasThreshold,
                "0 (off) or in (0, 1)");
        require(biasWarmup >= 1, "bias-warmup", biasWarmup, ">= 1");
    }

    private static void require(boolean ok, String key, double value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("tributary.trust." + key + " = " + value + " is invalid: it must be " + rule);
        }
    }

    /** Trusted trainers, plain mean, no norm bound: the behaviour before robust aggregation existed. */
    public static AggregationSettings trustedMean() {
        return new AggregationSettings(Mode.TRUSTED, Rule.MEAN, 0.2f, AUTO_TAU, 3, 0f, 0, 3f, 0.3f, 10);
    }

    /** The same settings with another rule (tests, benchmarks). */
    public AggregationSettings withRule(Rule other) {
        return new AggregationSettings(mode, other, trimFraction, clipTau, clipIterations, clipMomentum, maxGradientNorm,
                outlierFactor, biasThreshold, biasWarmup);
    }

    /** The same settings with another clipping radius and momentum (benchmarks). */
    public AggregationSettings withClipping(float tau, float momentum) {
        return new AggregationSettings(mode, rule, trimFraction, tau, clipIterations, momentum, maxGradientNorm,
                outlierFactor, biasThreshold, biasWarmup);
    }

    /** Whether centered clipping picks its radius from the trainers' spread. */
    public boolean autoTau() {
        return clipTau == AUTO_TAU;
    }

    /** Reads the {@code tributary.trust} block. */
    public static AggregationSettings from(Config root) {
        Config c = root.getConfig("tributary.trust");
        Mode mode = Mode.parse(c.getString("mode"));
        return new AggregationSettings(mode, Rule.parse(c.getString("aggregation"), mode),
                (float) c.getDouble("trim-fraction"), clipTau(c), c.getInt("clip-iterations"),
                (float) c.getDouble("clip-momentum"), c.getDouble("max-gradient-norm"), (float) c.getDouble("outlier-factor"),
                (float) c.getDouble("bias-threshold"), c.getInt("bias-warmup"));
    }

    private static float clipTau(Config c) {
        Object raw = c.getValue("clip-tau").unwrapped();
        if (raw instanceof String text && text.trim().equalsIgnoreCase("auto")) {
            return AUTO_TAU;
        }
        double tau;
        try {
            tau = raw instanceof Number number ? number.doubleValue() : Double.parseDouble(String.valueOf(raw).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tributary.trust.clip-tau = '" + raw
                    + "' is invalid: it must be auto or a finite number > 0", e);
        }
        if (!(tau > 0) || !Double.isFinite(tau)) {
            throw new IllegalArgumentException("tributary.trust.clip-tau = " + tau
                    + " is invalid: it must be auto or a finite number > 0");
        }
        return (float) tau;
    }
}
