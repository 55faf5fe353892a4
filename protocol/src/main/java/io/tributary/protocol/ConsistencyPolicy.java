package io.tributary.protocol;

import java.util.Locale;

/**
 * When a step's gradients are applied ({@code tributary.consistency.policy}): the one name every
 * node uses for it, in configuration, in the shard, the coordinator and the trainer, and on the wire.
 */
public enum ConsistencyPolicy {
    /** A step closes when every quorum trainer (or all but {@code backup}) contributed, or at the deadline. */
    SYNC,
    /** Each contribution is applied as it arrives; a trainer runs at most {@code staleness} steps ahead of the slowest. */
    BOUNDED_STALENESS,
    /**
     * Local SGD (DiLoCo): a step is a round in which each trainer runs {@code inner-steps} steps of its
     * own optimizer on its own samples and sends the pseudo-gradient (its parameters at the round's
     * start minus at its end); a round closes like a sync step, and the shard applies the outer
     * optimizer to the aggregated pseudo-gradient.
     */
    LOCAL_SGD;

    /** Whether a step closes for all its trainers at once (sync and local SGD), rather than contribution by contribution. */
    public boolean synchronous() {
        return this != BOUNDED_STALENESS;
    }

    /** The policy a configuration value names ({@code sync}, {@code bounded-staleness}, {@code local-sgd}); one line naming the key otherwise. */
    public static ConsistencyPolicy parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tributary.consistency.policy = '" + value
                    + "' is unknown: use sync, bounded-staleness or local-sgd", e);
        }
    }

    /** Its name in configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
