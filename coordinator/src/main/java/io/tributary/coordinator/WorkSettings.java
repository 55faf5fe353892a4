package io.tributary.coordinator;

import com.typesafe.config.Config;

/**
 * How the coordinator hands out the work ({@code tributary.consistency}): the lease of steps
 * trainers may compute ahead, and whether batches adapt to the trainers' speeds.
 *
 * @param leaseSteps         steps beyond the run's progress a trainer may compute ({@code lease-steps})
 * @param adaptive           batches sized by measured speed ({@code adaptive-batch = on})
 * @param adaptiveEverySteps how often the sizes are reconsidered ({@code adaptive-every-steps})
 * @param adaptiveMinShare   the smallest batch as a fraction of an equal share ({@code adaptive-min-share})
 */
public record WorkSettings(int leaseSteps, boolean adaptive, int adaptiveEverySteps, double adaptiveMinShare) {

    /** Equal batches, the default lease. */
    public static final WorkSettings DEFAULT = new WorkSettings(8, false, 20, 0.25);

    public WorkSettings {
        if (leaseSteps < 1 || leaseSteps > 1000) {
            throw new IllegalArgumentException("tributary.consistency.lease-steps = " + leaseSteps
                    + " is invalid: use 1..1000");
        }
        if (adaptiveEverySteps < 1) {
            throw new IllegalArgumentException("tributary.consistency.adaptive-every-steps = " + adaptiveEverySteps
                    + " is invalid: it must be >= 1");
        }
        if (!(adaptiveMinShare > 0 && adaptiveMinShare <= 1)) {
            throw new IllegalArgumentException("tributary.consistency.adaptive-min-share = " + adaptiveMinShare
                    + " is invalid: use a fraction in (0, 1]");
        }
    }

    public static WorkSettings from(Config root) {
        Config c = root.getConfig("tributary.consistency");
        String adaptive = c.getString("adaptive-batch").trim().toLowerCase(java.util.Locale.ROOT);
        boolean on = switch (adaptive) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default -> throw new IllegalArgumentException("tributary.consistency.adaptive-batch = '" + adaptive
                    + "' is unknown: use on or off");
        };
        return new WorkSettings(c.getInt("lease-steps"), on, c.getInt("adaptive-every-steps"),
                c.getDouble("adaptive-min-share"));
    }
}
