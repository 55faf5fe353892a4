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
    BOUNDED_STALENESS;

    /** The policy a configuration value names ({@code sync}, {@code bounded-staleness}); one line naming the key otherwise. */
    public static ConsistencyPolicy parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tributary.consistency.policy = '" + value
                    + "' is unknown: use sync or bounded-staleness", e);
        }
    }

    /** Its name in configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
