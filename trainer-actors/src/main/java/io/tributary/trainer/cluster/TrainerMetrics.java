package io.tributary.trainer.cluster;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tributary.dataplane.DataPlaneMetrics;

/**
 * The metrics of a node's trainer, served at {@code /metrics}: steps and samples, step time split
 * into waiting for parameters, computing and pushing, staleness, and the gradient bytes it sends
 * (in the node's data-plane counter). Recording allocates nothing.
 */
public final class TrainerMetrics {

    private static final double[] STEP_BUCKETS = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};

    public final Counter trainerSteps;
    public final Counter trainerSamples;
    public final Histogram trainerWaitSeconds;
    public final Histogram trainerComputeSeconds;
    public final Histogram trainerPushSeconds;
    public final Gauge trainerStaleness;
    /** The node's data-plane bytes sent, by kind (the trainer sends {@code gradient}). */
    public final Counter bytesSent;

    /** @param dataPlane the node's data-plane metrics, registered in {@code registry} already */
    public TrainerMetrics(PrometheusRegistry registry, DataPlaneMetrics dataPlane) {
        bytesSent = dataPlane.bytesSent;
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
    }
}
