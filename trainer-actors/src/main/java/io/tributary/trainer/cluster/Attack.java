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
 *       spread between trainers. {@code z} ({@code tributary.trainer.lie-z}) defaults to the paper's
 *       z_max for n = 5 trainers and f = 1 attacker: s = floor(n / 2 + 1) - f = 2 and
 *       z = Phi^-1((n - s) / n) = Phi^-1(0.6) = 0.2533 ({@link #paperZ}).</li>
 *   <li>{@code inner-product} (Xie, Koyejo and Gupta, UAI 2019): {@code -0.5} times the mean of its own
 *       recent gradients, its stand-in for the honest mean; with enough colluders the aggregate's inner
 *       product with the true gradient turns negative.</li>
 *   <li>{@code steal-slot}, {@code extra-votes}, {@code forge-parameters}: a member lying about who it is on
 *       the data plane, with frames it really signs ({@link HostileFrames}); its own gradient goes out
 *       honest, so only the lie can get it caught.</li>
 *   <li>{@code control-messages}: a member sending what its role may not (the coordinator's quorum to the
 *       shards) and speaking for another trainer (a step report under its id); its gradient goes out honest.</li>
 * </ul>
 */
public enum Attack {
    NONE, SIGN_FLIP, SCALE, SIGN_FLIP_SCALE, NAN, LITTLE_IS_ENOUGH,
    /**
     * Inner-product manipulation (Xie, Koyejo and Gupta, UAI 2019): {@code -IPM_EPSILON} times its
     * estimate of the honest mean (the running mean of its own gradients, weight {@link #LIE_RATE}).
     */
    INNER_PRODUCT,
    /** Data-plane lies ({@link HostileFrames}): -100 x its gradient, signed by itself, under another trainer's id. */
    STEAL_SLOT,
    /** Data-plane lies: -100 x its gradient under unused trainer ids, as extra votes. */
    EXTRA_VOTES,
    /** Data-plane lies: parameter frames of a far-future version to every other node's replicas. */
    FORGE_PARAMETERS,
    /**
     * Control-plane lies, each signed by its own node: the coordinator's {@code SetQuorum} (itself alone)
     * to every shard, and a step report in another trainer's name to the coordinator.
     */
    CONTROL_MESSAGES;

    /** Whether this attack lies on the data plane (its own gradient then goes out honest). */
    public boolean framesLie() {
        return this == STEAL_SLOT || this == EXTRA_VOTES || this == FORGE_PARAMETERS;
    }

    /** The inner-product attacker's epsilon: it sends {@code -IPM_EPSILON} times the mean it estimates. */
    public static final float IPM_EPSILON = 0.5f;
    /** Weight of one step in the little-is-enough attacker's running mean and variance. */
    public static final float LIE_RATE = 0.1f;
    /**
     * The little-is-enough paper's z_max for {@code n} workers of which {@code f} attack:
     * {@code Phi^-1((n - s) / n)} with {@code s = floor(n / 2 + 1) - f}.
     */
    public static double paperZ(int n, int f) {
        int s = n / 2 + 1 - f;
        return inverseNormal((double) (n - s) / n);
    }

    /** Phi^-1 by bisection on the error function's series (enough for a configuration default). */
    static double inverseNormal(double p) {
        if (!(p > 0 && p < 1)) {
            throw new IllegalArgumentException("probability " + p + " is not in (0, 1)");
        }
        double lo = -10;
        double hi = 10;
        for (int i = 0; i < 200; i++) {
            double mid = (lo + hi) / 2;
            if (normalCdf(mid) < p) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    private static double normalCdf(double x) {
        // Phi(x) = 1/2 + (1/sqrt(2 pi)) * sum_k (-1)^k x^(2k+1) / (2^k k! (2k+1)), fine for |x| < 6
        if (x < -6) {
            return 0;
        }
        if (x > 6) {
            return 1;
        }
        double term = x;
        double sum = x;
        for (int k = 1; k < 200; k++) {
            term *= -x * x / (2.0 * k);
            sum += term / (2 * k + 1);
        }
        return 0.5 + sum / Math.sqrt(2 * Math.PI);
    }

    /** Parses a config value such as {@code sign-flip}, naming the valid ones on a bad value. */
    public static Attack parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tributary.trainer.attack = '" + value
                    + "' is unknown: use none, sign-flip, scale, sign-flip-scale, nan, little-is-enough, inner-product,"
                    + " steal-slot,"
                    + " extra-votes or forge-parameters", e);
        }
    }

    /** The config name, such as {@code sign-flip}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** A corruptor for gradients of {@code length} values: holds what a stateful attack remembers across steps. */
    public Corruptor corruptor(int length) {
        return corruptor(length, (float) paperZ(5, 1));
    }

    /** As {@link #corruptor(int)}, with the little-is-enough attacker's {@code z}. */
    public Corruptor corruptor(int length, float lieZ) {
        if (!(lieZ >= 0) || !Float.isFinite(lieZ)) {
            throw new IllegalArgumentException("tributary.trainer.lie-z = " + lieZ + " is invalid: it must be >= 0");
        }
        return new Corruptor(this, length, lieZ);
    }

    /** Applies one {@link Attack} step by step; allocates only at construction. */
    public static final class Corruptor {
        private final Attack attack;
        private final float z;
        private final float[] mean;
        private final float[] meanSq;
        private boolean started;

        Corruptor(Attack attack, int length, float z) {
            this.attack = attack;
            this.z = z;
            boolean lie = attack == LITTLE_IS_ENOUGH;
            this.mean = lie || attack == INNER_PRODUCT ? new float[length] : null;
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
                case INNER_PRODUCT -> innerProduct(gradient);
                case STEAL_SLOT, EXTRA_VOTES, FORGE_PARAMETERS, CONTROL_MESSAGES -> {
                    // the lie is in the frames (HostileFrames), not in the gradient
                }
            }
        }

        private static void scale(float[] g, float factor) {
            for (int i = 0; i < g.length; i++) {
                g[i] *= factor;
            }
        }

        private void innerProduct(float[] g) {
            float keep = started ? 1f - LIE_RATE : 0f;
            float take = 1f - keep;
            for (int i = 0; i < g.length; i++) {
                float m = keep * mean[i] + take * g[i];
                mean[i] = m;
                g[i] = -IPM_EPSILON * m;
            }
            started = true;
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
                g[i] = m - z * sigma;
            }
            started = true;
        }
    }
}
