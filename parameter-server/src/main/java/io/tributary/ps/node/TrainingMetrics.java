package io.tributary.ps.node;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The training metrics a node serves at {@code /metrics}, registered in the node's registry:
 * per-trainer step time (split into waiting for parameters, computing, pushing), staleness,
 * samples; per-shard commits, aggregation latency and version; data-plane bytes and frames.
 * Recording allocates nothing.
 */
public final class TrainingMetrics {

    private static final double[] STEP_BUCKETS = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};

    public final Counter trainerSteps;
    public final Counter trainerSamples;
    public final Histogram trainerWaitSeconds;
    public final Histogram trainerComputeSeconds;
    public final Histogram trainerPushSeconds;
    public final Gauge trainerStaleness;
    public final Counter shardCommits;
    public final Counter gradientResends;
    public final Counter shardHandOvers;
    public final Histogram shardAggregationSeconds;
    public final Gauge shardVersion;
    public final Counter bytesSent;
    public final Gauge runStep;
    public final Gauge runAccuracy;
    public final Gauge runLiveTrainers;
    public final Counter checksumMismatches;
    public final Gauge creditSamples;
    public final Gauge creditSlices;
    public final Gauge creditComputeSeconds;
    public final Gauge creditReputation;
    public final Counter trainersQuarantined;

    public TrainingMetrics(PrometheusRegistry registry) {
        trainerSteps = Counter.builder().name("tributary_trainer_steps_total")
                .help("Training steps this node's trainer computed and pushed").register(registry);
        trainerSamples = Counter.builder().name("tributary_trainer_samples_total")
                .help("Samples this node's trainer processed").register(registry);
        trainerWaitSeconds = Histogram.builder().name("tributary_trainer_wait_seconds")
                .help("Per step: time from asking the shards for parameters until all arrived")
                .classicUpperBounds(STEP_BUCKETS).register(registry);
        trainerComputeSeconds = Histogram.builder().name("tributary_trainer_compute_seconds")
                .help("Per step: forward and backward on the backend").classicUpperBounds(STEP_BUCKETS).register(registry);
        trainerPushSeconds = Histogram.builder().name("tributary_trainer_push_seconds")
                .help("Per step: sending the gradient slices to the shards").classicUpperBounds(STEP_BUCKETS)
                .register(registry);
        trainerStaleness = Gauge.builder().name("tributary_trainer_staleness_steps")
                .help("How many steps this trainer's last step ran ahead of the slowest trainer (bounded staleness)")
                .register(registry);
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
        bytesSent = Counter.builder().name("tributary_dataplane_bytes_sent_total")
                .help("Payload bytes this node sent over the data plane, by kind").labelNames("kind").register(registry);
        runStep = Gauge.builder().name("tributary_run_step")
                .help("Steps of the run committed by every shard (coordinator)").register(registry);
        runAccuracy = Gauge.builder().name("tributary_run_test_accuracy")
                .help("Test accuracy at the last evaluation (coordinator)").register(registry);
        runLiveTrainers = Gauge.builder().name("tributary_run_live_trainers")
                .help("Trainers in the quorum (coordinator)").register(registry);
        checksumMismatches = Counter.builder().name("tributary_run_checksum_mismatches_total")
                .help("Gradients whose CRC32 at the shard differed from the trainer's (coordinator)").register(registry);
        creditSamples = Gauge.builder().name("tributary_credit_samples")
                .help("Credit ledger: samples each trainer processed in this run (coordinator)")
                .labelNames("trainer").register(registry);
        creditSlices = Gauge.builder().name("tributary_credit_gradient_slices")
                .help("Credit ledger: gradient slices of each trainer the shards accepted or rejected, and accepted ones that were outliers (coordinator)")
                .labelNames("trainer", "verdict").register(registry);
        creditComputeSeconds = Gauge.builder().name("tributary_credit_compute_seconds")
                .help("Credit ledger: forward and backward time each trainer reported (coordinator)")
                .labelNames("trainer").register(registry);
        creditReputation = Gauge.builder().name("tributary_credit_reputation")
                .help("Credit ledger: reputation of each trainer, 1 = every recent slice accepted (coordinator)")
                .labelNames("trainer").register(registry);
        trainersQuarantined = Counter.builder().name("tributary_run_trainers_quarantined_total")
                .help("Trainers quarantined because their contributions kept being rejected (coordinator)")
                .register(registry);
    }

    /** Exposes the data plane's frame counters (accepted, rejected by reason, send waits) as counters. */
    public void watchDataPlane(NodeDataPlane plane, PrometheusRegistry registry) {
        io.tributary.ps.wire.FrameReceiver udp = plane.receiver();
        io.tributary.ps.wire.FrameReceiver ipc = plane.ipcReceiver();
        CounterWithCallback.builder().name("tributary_dataplane_frames_received_total")
                .help("Data-plane frames accepted by this node's receiver (UDP and IPC)")
                .callback(cb -> cb.call(udp.framesAccepted() + ipc.framesAccepted())).register(registry);
        CounterWithCallback.builder().name("tributary_dataplane_send_waits_total")
                .help("Times a send waited for Aeron back-pressure or a connection (bounded by send-timeout)")
                .callback(cb -> cb.call(plane.sendWaits())).register(registry);
        CounterWithCallback.builder().name("tributary_dataplane_frames_rejected_total")
                .help("Data-plane frames this node's receiver refused, by reason (wrong run, version, bounds...)")
                .labelNames("reason")
                .callback(cb -> {
                    for (io.tributary.ps.wire.RejectReason r : io.tributary.ps.wire.RejectReason.values()) {
                        cb.call(udp.rejected(r) + ipc.rejected(r), r.name().toLowerCase(java.util.Locale.ROOT));
                    }
                }).register(registry);
    }
}
