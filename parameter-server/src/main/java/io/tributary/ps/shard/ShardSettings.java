package io.tributary.ps.shard;

import io.tributary.protocol.ConsistencyPolicy;
import com.typesafe.config.Config;
import io.tributary.ps.aggregate.AggregationSettings;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.ps.optim.Schedule;
import io.tributary.wire.Encoding;
import java.time.Duration;
import java.util.Locale;

/**
 * How parameter shards behave, read once from {@code tributary.cluster}, {@code tributary.consistency},
 * {@code tributary.optimizer} and {@code tributary.trust}.
 *
 * @param shards      K, the number of shards the parameter vector is cut into
 * @param policy      {@link ConsistencyPolicy#SYNC}, {@link ConsistencyPolicy#BOUNDED_STALENESS} or
 *                    {@link ConsistencyPolicy#LOCAL_SGD}
 * @param backup      sync: a step may close without this many of its trainers
 * @param deadline    sync: a step closes this long after its first contribution, whoever is missing
 * @param staleness   bounded staleness: how many steps a trainer may run ahead of the slowest
 * @param innerSteps  local SGD: the steps a trainer runs in a round (1 under the other policies)
 * @param maxTrainers the most trainers a run admits (slots are preallocated per trainer)
 * @param optimizer   the optimizer a shard applies to its slice (local SGD: the outer optimizer)
 * @param trust       how contributions are checked and aggregated (robust rules apply to sync only)
 * @param parameterEncoding how parameters travel to trainers ({@code tributary.data-plane.parameter-encoding})
 * @param resendAfter sync: a trainer that asked for the next parameters but whose gradient of the step
 *                    has not arrived this long after is asked to send it again (it went to a node the
 *                    shard has left, or was lost)
 * @param schedule    the optimizer's learning-rate schedule and clip norm (Adam and AdamW; see {@link Schedule})
 * @param decayRanges the {@code [from, to)} pairs of the whole flat vector AdamW decays (null: all of it;
 *                    the model's, set with {@link #withDecayRanges})
 */
public record ShardSettings(int shards, ConsistencyPolicy policy, int backup, Duration deadline, int staleness, int innerSteps,
                            int maxTrainers,
                            OptimizerSettings optimizer, AggregationSettings trust, Duration resendAfter,
                            Encoding parameterEncoding, Schedule schedule, int[] decayRanges, int replicas,
                            Duration replicaTimeout) {

    public ShardSettings {
        if (shards < 1) {
            throw new IllegalArgumentException("tributary.cluster.shards = " + shards + " is invalid: it must be >= 1");
        }
        if (backup < 0) {
            throw new IllegalArgumentException("tributary.consistency.backup = " + backup + " is invalid: it must be >= 0");
        }
        if (staleness < 0) {
            throw new IllegalArgumentException("tributary.consistency.staleness = " + staleness + " is invalid: it must be >= 0");
        }
        if (innerSteps < 1 || innerSteps > 100_000) {
            throw new IllegalArgumentException("tributary.consistency.inner-steps = " + innerSteps
                    + " is invalid: use 1..100000");
        }
        if (policy != ConsistencyPolicy.LOCAL_SGD && innerSteps != 1) {
            throw new IllegalArgumentException("inner steps " + innerSteps + " under the " + policy.configName()
                    + " policy: only local-sgd runs rounds of several steps");
        }
        if (maxTrainers < 1 || maxTrainers > 4096) {
            throw new IllegalArgumentException("tributary.cluster.max-trainers = " + maxTrainers + " is invalid: use 1..4096");
        }
        if (optimizer == null || trust == null || parameterEncoding == null || schedule == null) {
            throw new IllegalArgumentException("shard settings need optimizer and trust settings");
        }
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("tributary.consistency.deadline must be positive, got " + deadline);
        }
        if (replicas < 1 || replicas > 8) {
            throw new IllegalArgumentException("tributary.cluster.replicas = " + replicas + " is invalid: use 1 (no "
                    + "replicas) to 8");
        }
        if (replicaTimeout == null || replicaTimeout.isNegative() || replicaTimeout.isZero()) {
            throw new IllegalArgumentException("tributary.cluster.replica-timeout must be positive, got " + replicaTimeout);
        }
        if (resendAfter.isNegative() || resendAfter.isZero()) {
            throw new IllegalArgumentException("tributary.consistency.resend-after must be positive, got " + resendAfter);
        }
    }

    public static ShardSettings from(Config root) {
        Config cluster = root.getConfig("tributary.cluster");
        Config c = root.getConfig("tributary.consistency");
        ConsistencyPolicy policy = ConsistencyPolicy.parse(c.getString("policy"));
        boolean local = policy == ConsistencyPolicy.LOCAL_SGD;
        return new ShardSettings(cluster.getInt("shards"), policy, c.getInt("backup"), c.getDuration("deadline"),
                c.getInt("staleness"), local ? c.getInt("inner-steps") : 1, cluster.getInt("max-trainers"),
                local ? outerOptimizer(c) : OptimizerSettings.from(root), AggregationSettings.from(root),
                c.getDuration("resend-after"), encoding(root, "tributary.data-plane.parameter-encoding"),
                local ? Schedule.NONE : Schedule.from(root), null, cluster.getInt("replicas"),
                cluster.getDuration("replica-timeout"));
    }

    /** Whether shards keep replicas: more than one asked for, under a policy that closes steps (sync, local SGD). */
    public boolean replicated() {
        return replicas > 1 && policy.synchronous();
    }

    /** These settings with another optimizer and schedule (a model whose recipe fixes them). */
    public ShardSettings withOptimizer(OptimizerSettings newOptimizer, Schedule newSchedule) {
        return new ShardSettings(shards, policy, backup, deadline, staleness, innerSteps, maxTrainers, newOptimizer, trust,
                resendAfter, parameterEncoding, newSchedule, decayRanges, replicas, replicaTimeout);
    }

    /** These settings with AdamW's decay applied to {@code ranges} of the flat vector only ({@code [from, to)} pairs). */
    public ShardSettings withDecayRanges(int[] ranges) {
        return new ShardSettings(shards, policy, backup, deadline, staleness, innerSteps, maxTrainers, optimizer, trust,
                resendAfter, parameterEncoding, schedule, ranges == null ? null : ranges.clone(), replicas, replicaTimeout);
    }

    /**
     * The decay ranges within the slice {@code [offset, offset + length)}, relative to it (null: all of it);
     * pairs, in order.
     */
    public int[] decayRangesWithin(int offset, int length) {
        if (decayRanges == null) {
            return null;
        }
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i + 1 < decayRanges.length; i += 2) {
            int from = Math.max(decayRanges[i], offset);
            int to = Math.min(decayRanges[i + 1], offset + length);
            if (from < to) {
                out.add(from - offset);
                out.add(to - offset);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The data-plane encoding a key names; one line naming the key otherwise. */
    public static Encoding encoding(Config root, String key) {
        try {
            return Encoding.parse(root.getString(key));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    /** Local SGD's outer optimizer from {@code tributary.consistency}: SGD with Nesterov momentum. */
    private static OptimizerSettings outerOptimizer(Config consistency) {
        try {
            return OptimizerSettings.nesterov((float) consistency.getDouble("outer-learning-rate"),
                    (float) consistency.getDouble("outer-momentum"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("tributary.optimizer.learning-rate",
                    "tributary.consistency.outer-learning-rate").replace("tributary.optimizer.momentum",
                    "tributary.consistency.outer-momentum"), e);
        }
    }
}
