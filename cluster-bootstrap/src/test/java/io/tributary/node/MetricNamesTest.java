package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.tributary.coordinator.CoordinatorMetrics;
import io.tributary.protocol.ShardLayout;
import io.tributary.dataplane.DataPlaneMetrics;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.ps.shard.ShardMetrics;
import io.tributary.wire.DataPlane;
import io.tributary.trainer.cluster.TrainerMetrics;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Every role's metrics together serve the names dashboards and docs rely on, no more, no fewer. */
class MetricNamesTest {

    /** The training and data-plane names a node served at /metrics before the metrics were split by role, and since compressed frames and shard replicas. */
    private static final Set<String> SERVED = Set.of(
            "tributary_trainer_steps_total", "tributary_trainer_samples_total", "tributary_trainer_wait_seconds",
            "tributary_trainer_compute_seconds", "tributary_trainer_push_seconds", "tributary_trainer_staleness_steps",
            "tributary_shard_commits_total", "tributary_shard_gradient_resends_total", "tributary_shard_hand_overs_total",
            "tributary_shard_aggregation_seconds", "tributary_shard_version", "tributary_dataplane_bytes_sent_total",
            "tributary_dataplane_frame_bytes_sent_total",
            "tributary_run_step", "tributary_run_test_accuracy_ratio", "tributary_run_training_loss", "tributary_run_live_trainers",
            "tributary_run_checksum_mismatches_total", "tributary_credit_samples", "tributary_credit_gradient_slices",
            "tributary_credit_compute_seconds", "tributary_credit_reputation_ratio", "tributary_run_trainers_quarantined_total",
            "tributary_dataplane_frames_received_total", "tributary_dataplane_send_waits_total",
            "tributary_dataplane_frames_rejected_total", "tributary_shard_contributions_refused_total",
            "tributary_run_registrations_refused_total", "tributary_control_refused_total",
            "tributary_shard_replica_seconds", "tributary_shard_replica_timeouts_total",
            "tributary_coordinator_state_bytes", "tributary_coordinator_state_writes_total",
            "tributary_coordinator_take_overs_total");

    @Test
    void theRolesMetricsServeTheNamesANodeServedBefore() {
        PrometheusRegistry registry = new PrometheusRegistry();
        try (NodeDataPlane plane = new NodeDataPlane(DataPlane.Settings.defaults(), "127.0.0.1", 0, 1L, 0,
                new ShardLayout(10, 1), Duration.ofSeconds(1))) {
            DataPlaneMetrics dataPlane = new DataPlaneMetrics(registry);
            dataPlane.watch(plane);
            new TrainerMetrics(registry, dataPlane);
            new ShardMetrics(registry, dataPlane);
            new CoordinatorMetrics(registry);
            Set<String> registered = new TreeSet<>();
            for (MetricSnapshot s : registry.scrape()) {
                registered.add(s.getMetadata().getPrometheusName());
            }
            Set<String> expected = new TreeSet<>();
            for (String name : SERVED) {
                // the registry keeps a counter's name without the _total its samples carry
                expected.add(name.endsWith("_total") ? name.substring(0, name.length() - "_total".length()) : name);
            }
            assertEquals(expected, registered);
        }
    }
}
