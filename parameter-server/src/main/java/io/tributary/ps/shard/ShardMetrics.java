package io.tributary.ps.shard;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tributary.dataplane.DataPlaneMetrics;

/**
 * The metrics of the parameter shards a node hosts, served at {@code /metrics}: commits, resend
 * requests, hand-overs, aggregation latency and version per shard, and the parameter bytes they
 * send (in the node's data-plane counter). Recording allocates nothing.
 */
public final class ShardMetrics {

    private static final double[] STEP_BUCKETS = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};

    public final Counter shardCommits;
    public final Counter gradientResends;
    public final Counter shardHandOvers;
    public final Histogram shardAggregationSeconds;
    public final Gauge shardVersion;
    /** Contributions a shard refused before aggregating them, by reason ({@code not_in_quorum}). */
    public final Counter contributionsRefused;
    /** The node's data-plane bytes sent, by kind (shards send {@code parameters}). */
    public final Counter bytesSent;
    /** From a step's commit to every replica holding it (the announcement waits that long). */
    public final Histogram replicaSeconds;
    /** Steps announced without a replica's answer (it did not answer within replica-timeout). */
    public final Counter replicaTimeouts;

    /** @param dataPlane the node's data-plane metrics, registered in {@code registry} already */
    public ShardMetrics(PrometheusRegistry registry, DataPlaneMetrics dataPlane) {
        bytesSent = dataPlane.bytesSent;
        shardCommits = Counter.builder().name("tributary_shard_commits_total")
                .help("Steps (sync) or contributions (bounded staleness) applied by shards on this node")
                .labelNames("shard").register(registry);
        gradientResends = Counter.builder().name("tributary_shard_gradient_resends_total")
                .help("Trainers asked by shards on this node to send a step's gradient again (it went to a node the"
                        + " shard left, or was lost)").register(registry);
        shardHandOvers = Counter.builder().name("tributary_shard_hand_overs_total")
                .help("Shards that moved onto this node and took over their previous owner's state")
                .register(registry);
        shardAggregationSeconds = Histogram.builder().name("tributary_shard_aggregation_seconds")
                .help("Summing the contributions of a step and applying the optimizer")
                .classicUpperBounds(STEP_BUCKETS).register(registry);
        shardVersion = Gauge.builder().name("tributary_shard_version")
                .help("Parameter version of each shard hosted on this node").labelNames("shard").register(registry);
        contributionsRefused = Counter.builder().name("tributary_shard_contributions_refused_total")
                .help("Contributions shards on this node refused before aggregating them, by reason (not_in_quorum:"
                        + " from a trainer id outside the current quorum)")
                .labelNames("reason").register(registry);
        replicaSeconds = Histogram.builder().name("tributary_shard_replica_seconds")
                .help("From a step's commit on a shard of this node until every replica of it holds the step")
                .classicUpperBounds(STEP_BUCKETS).register(registry);
        replicaTimeouts = Counter.builder().name("tributary_shard_replica_timeouts_total")
                .help("Steps shards on this node announced without a replica's answer (replica-timeout passed)")
                .register(registry);
    }
}
