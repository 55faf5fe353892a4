package io.tributary.dataplane;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tributary.wire.FrameReceiver;
import io.tributary.wire.RejectReason;
import java.util.Locale;

/**
 * The data-plane metrics a node serves at {@code /metrics}, whatever its roles: payload bytes sent
 * by kind (counted by the role that sends them: trainers gradients, shards parameters), and the
 * receivers' and publications' own frame counters, among them the frame bytes that actually went
 * out (compressed frames count less). Recording allocates nothing.
 */
public final class DataPlaneMetrics {

    /** Payload bytes sent, by kind ({@code gradient}, {@code parameters}). */
    public final Counter bytesSent;
    private final PrometheusRegistry registry;

    public DataPlaneMetrics(PrometheusRegistry registry) {
        this.registry = registry;
        bytesSent = Counter.builder().name("tributary_dataplane_bytes_sent_total")
                .help("Payload bytes this node sent over the data plane, by kind").labelNames("kind").register(registry);
    }

    /** Exposes {@code plane}'s frame counters (accepted, rejected by reason, send waits) as counters. */
    public void watch(NodeDataPlane plane) {
        FrameReceiver udp = plane.receiver();
        FrameReceiver ipc = plane.ipcReceiver();
        CounterWithCallback.builder().name("tributary_dataplane_frames_received_total")
                .help("Data-plane frames accepted by this node's receiver (UDP and IPC)")
                .callback(cb -> cb.call(udp.framesAccepted() + ipc.framesAccepted())).register(registry);
        CounterWithCallback.builder().name("tributary_dataplane_frame_bytes_sent_total")
                .help("Data-plane frame bytes this node sent, headers included, as encoded on the wire (all publications)")
                .callback(cb -> cb.call(plane.bytesSent())).register(registry);
        CounterWithCallback.builder().name("tributary_dataplane_send_waits_total")
                .help("Times a send waited for Aeron back-pressure or a connection (bounded by send-timeout)")
                .callback(cb -> cb.call(plane.sendWaits())).register(registry);
        CounterWithCallback.builder().name("tributary_dataplane_frames_rejected_total")
                .help("Data-plane frames this node's receiver refused, by reason (wrong run, version, bounds...)")
                .labelNames("reason")
                .callback(cb -> {
                    for (RejectReason r : RejectReason.values()) {
                        cb.call(udp.rejected(r) + ipc.rejected(r), r.name().toLowerCase(Locale.ROOT));
                    }
                }).register(registry);
    }
}
