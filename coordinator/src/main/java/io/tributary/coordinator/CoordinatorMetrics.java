package io.tributary.coordinator;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The coordinator's metrics, served at {@code /metrics} by the node that hosts it: the run's
 * progress, accuracy and quorum, gradient checksum mismatches, quarantines, and the credit ledger
 * per trainer. They change at the coordinator's pace (commits, evaluations), not per frame.
 */
public final class CoordinatorMetrics {

    public final Gauge runStep;
    public final Gauge runAccuracy;
    public final Gauge runLoss;
    public final Gauge runLiveTrainers;
    public final Counter checksumMismatches;
    public final Gauge creditSamples;
    public final Gauge creditSlices;
    public final Gauge creditComputeSeconds;
    public final Gauge creditReputation;
    public final Counter trainersQuarantined;
    public final Counter registrationsRefused;
    public final Counter controlRefused;
    public final Gauge stateBytes;
    public final Counter stateWrites;
    public final Counter takeOvers;

    public CoordinatorMetrics(PrometheusRegistry registry) {
        runStep = Gauge.builder().name("tributary_run_step")
                .help("Steps of the run committed by every shard (coordinator)").register(registry);
        runAccuracy = Gauge.builder().name("tributary_run_test_accuracy_ratio")
                .help("Test accuracy at the last evaluation, 0..1 (coordinator)").register(registry);
        runLoss = Gauge.builder().name("tributary_run_training_loss")
                .help("Training loss (cross-entropy, nats), the trainers' step reports smoothed (coordinator)")
                .register(registry);
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
        creditReputation = Gauge.builder().name("tributary_credit_reputation_ratio")
                .help("Credit ledger: reputation of each trainer, 0..1, 1 = every recent slice accepted (coordinator)")
                .labelNames("trainer").register(registry);
        trainersQuarantined = Counter.builder().name("tributary_run_trainers_quarantined_total")
                .help("Trainers quarantined because their contributions kept being rejected (coordinator)")
                .register(registry);
        registrationsRefused = Counter.builder().name("tributary_run_registrations_refused_total")
                .help("Trainer registrations refused: not the node's word, not a trainer, quarantined (coordinator)")
                .register(registry);
        controlRefused = Counter.builder().name("tributary_control_refused_total")
                .help("Control messages this node dropped: unsigned, unknown signer, bad signature, a role that may not"
                        + " send it, or a trainer speaking for another's id (every node)")
                .labelNames("reason", "message").register(registry);
        stateBytes = Gauge.builder().name("tributary_coordinator_state_bytes")
                .help("Size of the run's state the coordinator last stored for a successor, compressed (coordinator)")
                .register(registry);
        stateWrites = Counter.builder().name("tributary_coordinator_state_writes_total")
                .help("Writes of the run's state to a majority of the coordinator nodes, by outcome: stored, not_confirmed"
                        + " (no majority within the time-out), too_large (coordinator)")
                .labelNames("outcome").register(registry);
        takeOvers = Counter.builder().name("tributary_coordinator_take_overs_total")
                .help("Times a coordinator on this node took a run over from its stored state (coordinator)")
                .register(registry);
    }
}
