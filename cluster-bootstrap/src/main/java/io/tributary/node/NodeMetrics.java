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
        server = HTTPServer.builder().hostname(host).port(port).registry(registry).defaultHandler(this::other)
                .buildAndStart();
    }

    /** Where a revocation list POSTed to {@code /revocations} goes (nothing until TLS is set up). */
    private volatile java.util.function.Function<io.tributary.tls.SignedRevocations.Update,
            java.util.concurrent.CompletableFuture<String>> revocations;

    /** Takes CA-signed revocation lists POSTed to {@code /revocations} ({@code tributary certs publish}). */
    void onRevocations(java.util.function.Function<io.tributary.tls.SignedRevocations.Update,
            java.util.concurrent.CompletableFuture<String>> handler) {
        this.revocations = handler;
    }

    /**
     * Paths besides /metrics: {@code POST /revocations}, body = the CA's signature (Base64) on the first line,
     * then the list. Anyone may post: only a list the cluster's CA signed is taken ({@code SignedRevocations}).
     */
    private void other(com.sun.net.httpserver.HttpExchange x) throws IOException {
        try (x) {
            var handler = revocations;
            if (!x.getRequestURI().getPath().equals("/revocations") || !x.getRequestMethod().equals("POST")) {
                reply(x, 404, "not found: this node serves GET /metrics and POST /revocations\n");
                return;
            }
            if (handler == null) {
                reply(x, 409, "this node runs without TLS: it has no CA to check a revocation list against\n");
                return;
            }
            String body = new String(x.getRequestBody().readNBytes(4 << 20), java.nio.charset.StandardCharsets.UTF_8);
            int nl = body.indexOf('\n');
            if (nl < 0) {
                reply(x, 400, "the body is the CA's signature on one line, then revoked.txt (tributary certs publish)\n");
                return;
            }
            try {
                String done = handler.apply(new io.tributary.tls.SignedRevocations.Update(body.substring(nl + 1),
                        body.substring(0, nl).trim())).get(10, java.util.concurrent.TimeUnit.SECONDS);
                reply(x, 200, done + "\n");
            } catch (java.util.concurrent.ExecutionException e) {
                reply(x, 400, "refused: " + e.getCause().getMessage() + "\n");
            } catch (java.util.concurrent.TimeoutException e) {
                reply(x, 503, "the node did not take the list within 10 s; try again\n");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reply(x, 503, "interrupted\n");
            }
        }
    }

    private static void reply(com.sun.net.httpserver.HttpExchange x, int status, String text) throws IOException {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        x.sendResponseHeaders(status, bytes.length);
        x.getResponseBody().write(bytes);
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
