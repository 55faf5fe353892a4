package io.tributary.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tributary.trainer.data.MnistIdx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped chaos scenarios, each a real local cluster of JVMs with real faults: every checker
 * must say valid (overall true), the run must finish, and the results folder must hold
 * results.json and the chart.
 */
@Tag("slow")
class ChaosSuiteIT {

    @TempDir
    Path runs;

    @BeforeEach
    void needsMnist() {
        assumeTrue(Files.isRegularFile(MnistIdx.defaultDirectory().resolve(MnistIdx.TEST_LABELS)),
                "skipped: MNIST is not in " + MnistIdx.defaultDirectory() + " (run scripts/fetch-mnist.sh)");
    }

    /**
     * Eleven faults in five clusters and three hostile members in three more (a cluster start is ~20 s of a
     * 2-core machine): a trainer killed,
     * a trainer joining mid-run, a trainer paused and a partitioned trainer that heals
     * (trainer-churn), 10% Aeron loss (aeron-loss); and a trainer killed, one joining, one paused and a ps node killed under local SGD
     * without replicas (local-sgd-churn: a rollback); a ps node killed with replicas (kill-ps-replicas: no step
     * redone) and the coordinator's JVM killed (kill-coordinator: the other coordinator node takes the run over,
     * checked by coordinator-hand-overs). Then three hostile members, each with a valid trainer certificate, lying on the
     * data plane with frames it really signs: under another trainer's id (hostile-steal-slot), under
     * unused ids (hostile-extra-votes), and as parameters (hostile-forge-parameters): each must be
     * quarantined, and nobody else (attackers-quarantined), with the honest two finishing the epoch.
     */
    @ParameterizedTest
    // ps-churn (a ps node joining, then one killed: 3.5 minutes) runs by hand, docs/chaos.md: with it the suite
    // took .ci/run past 30 minutes on the 2-core VM
    @ValueSource(strings = {"trainer-churn", "aeron-loss", "kill-ps-replicas", "kill-coordinator",
            "local-sgd-churn",
            "hostile-steal-slot",
            "hostile-extra-votes", "hostile-forge-parameters"})
    void shippedScenarioEndsWithNoFalseVerdict(String name) throws Exception {
        Path file = Path.of(System.getProperty("user.dir")).getParent().resolve("config/chaos/" + name + ".conf");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChaosRunner.Outcome o = new ChaosRunner(Scenario.load(file), runs,
                new PrintStream(out, true, StandardCharsets.UTF_8)).run();
        String log = out.toString(StandardCharsets.UTF_8);
        assertEquals("true", o.overall(), o.verdicts() + "\n" + log);
        assertEquals("true", o.verdicts().get(0).valid(), "run-finished: " + o.verdicts() + "\n" + log);
        assertTrue(o.verdicts().stream().filter(v -> v.checker().equals("updates-intact"))
                .allMatch(v -> v.valid().equals("true")), o.verdicts().toString());
        if (name.startsWith("hostile-")) {
            assertTrue(o.verdicts().stream().anyMatch(v -> v.checker().equals("attackers-quarantined")
                    && v.valid().equals("true")), o.verdicts().toString());
        } else {
            // honest members are never refused for sending what their role may not: a message whose sender in the
            // code is not the role ControlAuthorization names is dropped, and the run limps on by time-outs
            try (java.util.stream.Stream<Path> logs = Files.list(o.resultsDir())) {
                for (Path node : logs.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
                    // ISO-8859-1 reads any bytes: a JVM killed mid-line may leave half a UTF-8 character
                    List<String> refused = Files.readAllLines(node, StandardCharsets.ISO_8859_1).stream()
                            .filter(l -> l.contains("not_its_role")).limit(3).toList();
                    assertTrue(refused.isEmpty(), node.getFileName() + ": " + refused);
                }
            }
        }
        assertTrue(Files.size(o.resultsDir().resolve("chart.png")) > 1000, "chart written");
        // the run's scalars, and tributary plot of them with the faults (issue 18)
        assertTrue(Files.readAllLines(o.resultsDir().resolve("scalars.jsonl")).size() >= o.result().steps(),
                "a line per committed step in scalars.jsonl");
        java.awt.image.BufferedImage plot = javax.imageio.ImageIO.read(
                io.tributary.cli.RunPlot.drawRun(o.resultsDir()).toFile());
        assertEquals(1100, plot.getWidth(), "tributary plot drew the run");
        String json = Files.readString(o.resultsDir().resolve("results.json"));
        // the overall verdict is a JSON boolean (Jepsen's format), not the string "true"
        assertTrue(json.contains("\"valid\": true,"), json);
    }
}
