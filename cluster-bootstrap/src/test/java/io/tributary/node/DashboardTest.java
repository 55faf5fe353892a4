package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.config.ConfigLoader;
import io.tributary.coordinator.RunListener;
import io.tributary.coordinator.RunResult;
import io.tributary.tls.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 18: every series the Grafana dashboard (ops/grafana/tributary-dashboard.json) queries exists on a real
 * node's /metrics, once that node (coordinator, ps and trainer in one, mutual TLS, synthetic data) has trained.
 * The names are read from the dashboard's queries, not from the code.
 */
@Timeout(180)
class DashboardTest {

    private static final Pattern METRIC = Pattern.compile("\\btributary_[a-z_]+");

    @Test
    void everySeriesTheDashboardQueriesIsServedByATrainedNode() throws Exception {
        Path dashboard = Path.of(System.getProperty("user.dir")).getParent()
                .resolve("ops/grafana/tributary-dashboard.json");
        String json = Files.readString(dashboard, StandardCharsets.UTF_8);
        Set<String> queried = new TreeSet<>();
        Matcher exprs = Pattern.compile("\"expr\": \"([^\"]*)\"").matcher(json);
        while (exprs.find()) {
            Matcher m = METRIC.matcher(exprs.group(1));
            while (m.find()) {
                queried.add(m.group());
            }
        }
        assertTrue(queried.size() >= 12, "the dashboard queries " + queried);

        Path tls = new TestPki("dashboard-test").node("coordinator", "ps", "trainer");
        CompletableFuture<RunResult> done = new CompletableFuture<>();
        RunListener listener = new RunListener() {
            @Override
            public void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch,
                                String policy) {
            }

            @Override
            public void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers, double loss,
                                 double lastAccuracy) {
            }

            @Override
            public void evaluated(int epoch, long step, double accuracy) {
            }

            @Override
            public void finished(RunResult result) {
                done.complete(result);
            }

            @Override
            public void failed(String reason) {
                done.completeExceptionally(new AssertionError("the run failed: " + reason));
            }
        };
        NodeSettings settings = new NodeSettings(Set.of("coordinator", "ps", "trainer"), "127.0.0.1", 0, List.of(), 0);
        try (TributaryNode node = ClusterTraining.launch(settings, ConfigLoader.load(null, Map.of(
                "tributary.tls.dir", tls.toString(), "tributary.data.set", "synthetic",
                "tributary.train.epochs", "1", "tributary.data.train-limit", "2048")), listener)) {
            RunResult r = done.get(150, TimeUnit.SECONDS);
            assertTrue(r.steps() > 0, "trained " + r.steps() + " steps");
            String metrics = TributaryNodeTest.get(node.metricsPort(), "/metrics").body();
            Set<String> missing = new TreeSet<>();
            for (String name : queried) {
                if (!Pattern.compile("(?m)^" + name + "[ {]").matcher(metrics).find()) {
                    missing.add(name);
                }
            }
            assertEquals(Set.of(), missing, "series the dashboard queries that the node does not serve");
        }
    }
}
