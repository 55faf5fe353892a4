package io.tributary.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScenarioTest {

    @TempDir
    Path dir;

    private ScenarioException bad(String body) throws IOException {
        Path f = Files.writeString(dir.resolve("bad.conf"), body);
        ScenarioException e = assertThrows(ScenarioException.class, () -> Scenario.load(f));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().contains("bad.conf"), "names the file: " + e.getMessage());
        return e;
    }

    @Test
    void everyShippedScenarioLoads() throws IOException {
        Path chaos = Path.of(System.getProperty("user.dir")).getParent().resolve("config/chaos");
        try (var files = Files.list(chaos)) {
            long n = files.filter(p -> p.toString().endsWith(".conf")).peek(Scenario::load).count();
            assertTrue(n >= 4, "scenarios shipped: " + n);
        }
    }

    @Test
    void aScenarioReadsItsTimeline() throws IOException {
        Path f = Files.writeString(dir.resolve("ok.conf"), String.join("\n",
                "scenario {",
                "  name = demo",
                "  cluster { trainers = 2, ps = 1 }",
                "  job { epochs = 2, settings { \"tributary.data.set\" = synthetic } }",
                "  faults = [ { at = 5s, action = pause, target = trainer-2, duration = 3s } ]",
                "  checks { baseline-accuracy = 0.9 }",
                "}"));
        Scenario s = Scenario.load(f);
        assertEquals(2, s.trainers());
        assertEquals("synthetic", s.settings().get("tributary.data.set"));
        assertEquals(Scenario.Action.PAUSE, s.faults().get(0).action());
        assertEquals(Duration.ofSeconds(5), s.faults().get(0).at());
        assertEquals(0.9, s.baselineAccuracy());
    }

    @Test
    void unknownKeyIsNamedWithItsLine() throws IOException {
        ScenarioException e = bad("scenario {\n  name = x\n  clustr { trainers = 2 }\n}\n");
        assertTrue(e.getMessage().contains("scenario.clustr") && e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void unknownActionAndTargetAreNamedWithTheirLine() throws IOException {
        ScenarioException e = bad("scenario {\n  faults = [\n    { at = 1s, action = explode, target = ps-1 }\n  ]\n}\n");
        assertTrue(e.getMessage().contains("action = 'explode'") && e.getMessage().contains("line 3"), e.getMessage());
        ScenarioException t = bad("scenario {\n  cluster { trainers = 2 }\n  faults = [ { action = kill, target = trainer-7 } ]\n}\n");
        assertTrue(t.getMessage().contains("trainer-7") && t.getMessage().contains("trainer-1..trainer-2"), t.getMessage());
    }

    @Test
    void aJoinedTrainerCanBeTargetedOnlyAfterItJoins() throws IOException {
        ScenarioException early = bad("scenario {\n  cluster { trainers = 2 }\n  faults = [\n"
                + "    { at = 10s, action = join, target = trainer-3 }\n"
                + "    { at = 5s, action = kill, target = trainer-3 }\n  ]\n}\n");
        assertTrue(early.getMessage().contains("joins only at") && early.getMessage().contains("line 5"),
                early.getMessage());
        ScenarioException never = bad("scenario {\n  cluster { trainers = 2 }\n"
                + "  faults = [ { at = 5s, action = pause, target = trainer-3, duration = 1s } ]\n}\n");
        assertTrue(never.getMessage().contains("an earlier join fault"), never.getMessage());
    }

    @Test
    void coordinatorJvmsAreTargetsAndANewOneMayJoin() throws IOException {
        Path f = Files.writeString(dir.resolve("coord.conf"), "scenario {\n  cluster { trainers = 2, ps = 1 }\n"
                + "  faults = [\n    { at = 10s, action = kill, target = coordinator-1 }\n"
                + "    { at = 20s, action = join, target = coordinator-3 }\n"
                + "    { at = 40s, action = pause, target = coordinator-3, duration = 30s }\n  ]\n}\n");
        Scenario s = Scenario.load(f);
        assertEquals(3, s.faults().size());
        assertEquals("2", s.settings().get("tributary.cluster.coordinator-nodes"), "two coordinator JVMs by default");
        ScenarioException beyond = bad("scenario {\n  cluster { coordinators = 2 }\n"
                + "  faults = [ { at = 5s, action = kill, target = coordinator-3 } ]\n}\n");
        assertTrue(beyond.getMessage().contains("coordinator-1..coordinator-2") && beyond.getMessage().contains("line 3"),
                beyond.getMessage());
        ScenarioException none = bad("scenario {\n  cluster { coordinators = 0 }\n}\n");
        assertTrue(none.getMessage().contains("at least 1 trainer, 1 ps and 1 coordinator"), none.getMessage());
    }

    @Test
    void aPsNodeCanJoinOnceAndThenBeTargeted() throws IOException {
        Path f = Files.writeString(dir.resolve("addps.conf"), "scenario {\n  cluster { trainers = 2, ps = 1 }\n"
                + "  faults = [\n    { at = 10s, action = join, target = ps-2 }\n"
                + "    { at = 30s, action = kill, target = ps-2 }\n  ]\n}\n");
        Scenario s = Scenario.load(f);
        assertEquals(2, s.faults().size());
        ScenarioException existing = bad("scenario {\n  cluster { ps = 2 }\n"
                + "  faults = [ { at = 5s, action = join, target = ps-2 } ]\n}\n");
        assertTrue(existing.getMessage().contains("ps-3 or higher") && existing.getMessage().contains("line 3"),
                existing.getMessage());
        ScenarioException twice = bad("scenario {\n  faults = [\n    { at = 5s, action = join, target = ps-2 }\n"
                + "    { at = 9s, action = join, target = ps-2 }\n  ]\n}\n");
        assertTrue(twice.getMessage().contains("each joining once") && twice.getMessage().contains("line 4"),
                twice.getMessage());
    }

    @Test
    void illTypedValueAndSyntaxErrorAreOneLine() throws IOException {
        ScenarioException e = bad("scenario {\n  cluster { trainers = many }\n}\n");
        assertTrue(e.getMessage().contains("trainers"), e.getMessage());
        ScenarioException s = bad("scenario {\n  faults = [ { at = \n");
        assertTrue(s.getMessage().contains("bad.conf"), s.getMessage());
    }

    @Test
    void pauseWithoutDurationIsRefused() throws IOException {
        ScenarioException e = bad("scenario {\n  faults = [ { action = pause, target = trainer-1 } ]\n}\n");
        assertTrue(e.getMessage().contains("duration") && e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void partitionAndBandwidthFaultsReadTheirDurationAndRate() throws IOException {
        Path f = Files.writeString(dir.resolve("net.conf"), String.join("\n",
                "scenario {",
                "  cluster { trainers = 2, ps = 1 }",
                "  faults = [",
                "    { at = 5s, action = partition, target = trainer-2, duration = 3s }",
                "    { at = 9s, action = bandwidth, target = ps-1, bandwidth = 2MiB, duration = 4s }",
                "  ]",
                "}"));
        Scenario s = Scenario.load(f);
        assertEquals(Scenario.Action.PARTITION, s.faults().get(0).action());
        assertEquals("partition trainer-2 for 3 s", s.faults().get(0).describe());
        assertEquals(2L * 1024 * 1024, s.faults().get(1).bandwidth());
        assertEquals("bandwidth ps-1 for 4 s at 2097152 B/s", s.faults().get(1).describe());
        ScenarioException noRate = bad("scenario {\n  faults = [ { action = bandwidth, target = trainer-1, duration = 2s } ]\n}\n");
        assertTrue(noRate.getMessage().contains("bandwidth") && noRate.getMessage().contains("line 2"), noRate.getMessage());
        ScenarioException noDuration = bad("scenario {\n  faults = [ { action = partition, target = trainer-1 } ]\n}\n");
        assertTrue(noDuration.getMessage().contains("duration"), noDuration.getMessage());
    }
}
