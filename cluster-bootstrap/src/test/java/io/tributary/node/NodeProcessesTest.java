package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import io.tributary.tls.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two {@code tributary node} JVMs on loopback form a cluster; SIGTERM stops one promptly. */
@Tag("slow")
class NodeProcessesTest {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration FORMATION_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern STARTED =
            Pattern.compile("tributary node pekko://tributary@127\\.0\\.0\\.1:(\\d+) started.*metrics at http://127\\.0\\.0\\.1:(\\d+)/metrics");

    @TempDir
    Path dir;

    /** A child JVM, its stdout lines queued, its stderr (the log) in a file. */
    private record Child(Process process, BlockingQueue<String> stdout, Path log) {
        String logText() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }
    }

    private Child startNode(String name, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Dtributary.log.level=INFO",
                "-cp", System.getProperty("java.class.path"),
                NodeCommand.class.getName()));
        command.addAll(List.of(args));
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(stdout closed: " + e + ")");
            }
        }, name + "-stdout");
        reader.setDaemon(true);
        reader.start();
        return new Child(p, lines, log);
    }

    /** Returns {pekko port, metrics port} from the child's start line. */
    private static int[] awaitStarted(Child child) throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String line = child.stdout().poll(200, TimeUnit.MILLISECONDS);
            if (line != null) {
                Matcher m = STARTED.matcher(line);
                if (m.find()) {
                    return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
                }
            }
            if (!child.process().isAlive()) {
                throw new AssertionError("node exited with " + child.process().exitValue() + " before starting: "
                        + child.logText());
            }
        }
        throw new AssertionError("node did not start within " + START_TIMEOUT + ": " + child.logText());
    }

    private static void awaitMetric(Child child, int metricsPort, String sample) throws InterruptedException {
        long deadline = System.nanoTime() + FORMATION_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (TributaryNodeTest.get(metricsPort, "/metrics").body().contains(sample)) {
                    return;
                }
            } catch (IOException e) {
                // not answering yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("metrics never showed '" + sample + "' within " + FORMATION_TIMEOUT + ": "
                + child.logText());
    }

    @Test
    void twoNodeProcessesFormAClusterAndSigtermStopsOnePromptly() throws Exception {
        Child seed = null;
        Child joiner = null;
        try {
            TestPki pki = new TestPki("processes");
            seed = startNode("seed", "--roles", "coordinator,ps", "--port", "0", "--metrics-port", "0",
                    "--tls-dir", pki.node("coordinator", "ps").toString());
            int[] seedPorts = awaitStarted(seed);
            joiner = startNode("joiner", "--roles", "trainer", "--port", "0", "--metrics-port", "0",
                    "--join", "127.0.0.1:" + seedPorts[0], "--tls-dir", pki.node("trainer").toString());
            int[] joinerPorts = awaitStarted(joiner);

            awaitMetric(joiner, joinerPorts[1], "tributary_cluster_members_up 2.0");
            awaitMetric(seed, seedPorts[1], "tributary_cluster_members_up 2.0");

            joiner.process().destroy();
            assertTrue(joiner.process().waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS),
                    "the node did not exit within " + EXIT_TIMEOUT + " of SIGTERM: " + joiner.logText());
            // It left gracefully (CoordinatedShutdown), so the seed sees one member without downing it.
            awaitMetric(seed, seedPorts[1], "tributary_cluster_members_up 1.0");
        } finally {
            for (Child c : new Child[] {joiner, seed}) {
                if (c != null) {
                    c.process().destroyForcibly();
                    c.process().waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                }
            }
        }
    }
}
