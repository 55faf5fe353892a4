package io.tributary.node;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;

/**
 * The node's Prometheus registry (JVM metrics and membership) and the HTTP server that serves it
 * at {@code /metrics}. One registry per node, so several nodes can share a JVM in tests.
 */
final class NodeMetrics implements AutoCloseable {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Gauge membersUp = Gauge.builder()
            .name("tributary_cluster_members_up")
            .help("Cluster members with status Up, as this node sees them")
            .register(registry);
    private final Counter memberEvents = Counter.builder()
            .name("tributary_cluster_member_events_total")
            .help("Cluster membership events seen by this node, by event")
            .labelNames("event")
            .register(registry);
    private final HTTPServer server;

    private NodeMetrics(String host, int port) throws IOException {
        JvmMetrics.builder().register(registry);
        server = HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
    }

    /** Starts the endpoint on {@code host:port} (0: a free port). */
    static NodeMetrics start(String host, int port) {
        try {
            return new NodeMetrics(host, port);
        } catch (IOException e) {
            throw new NodeStartException("metrics port " + port + " on " + host + " is not free (" + e.getMessage()
                    + "): pick another with --metrics-port, or 0 for a free one", e);
        }
    }

    /** The node's registry, for the training metrics. */
    io.prometheus.metrics.model.registry.PrometheusRegistry registry() {
        return registry;
    }

    int port() {
        return server.getPort();
    }

    void membersUp(int count) {
        membersUp.set(count);
    }

    void memberEvent(String event) {
        memberEvents.labelValues(event).inc();
    }

    @Override
    public void close() {
        server.close();
    }
}
