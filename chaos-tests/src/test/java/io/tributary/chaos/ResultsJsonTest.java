package io.tributary.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** results.json read back by a JSON parser, as scripts and notebooks read it. */
class ResultsJsonTest {

    @TempDir
    Path dir;

    @Test
    void verdictsAreJsonBooleansAndUnknownIsAString() throws IOException {
        Path file = Files.writeString(dir.resolve("ok.conf"), String.join("\n",
                "scenario {",
                "  name = json",
                "  cluster { trainers = 2, ps = 1 }",
                "  job { epochs = 1 }",
                "  faults = []",
                "}"));
        String json = ResultsJson.render(Scenario.load(file), "unknown", List.of(
                new ChaosRunner.Verdict("run-finished", "true", "all 10 steps committed"),
                new ChaosRunner.Verdict("updates-intact", "false", "1 differed"),
                new ChaosRunner.Verdict("accuracy-margin", "unknown", "no \"baseline\"")), null);

        Config parsed = ConfigFactory.parseString(json, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        assertEquals(ConfigValueType.STRING, parsed.getValue("valid").valueType());
        assertEquals("unknown", parsed.getString("valid"));
        List<? extends Config> checkers = parsed.getConfigList("checkers");
        assertEquals(ConfigValueType.BOOLEAN, checkers.get(0).getValue("valid").valueType());
        assertEquals(true, checkers.get(0).getBoolean("valid"));
        assertEquals(ConfigValueType.BOOLEAN, checkers.get(1).getValue("valid").valueType());
        assertEquals(false, checkers.get(1).getBoolean("valid"));
        assertEquals(ConfigValueType.STRING, checkers.get(2).getValue("valid").valueType());
        assertEquals("unknown", checkers.get(2).getString("valid"));
        assertEquals("no \"baseline\"", checkers.get(2).getString("detail"));

        String passed = ResultsJson.render(Scenario.load(file), "true", List.of(), null);
        Config overall = ConfigFactory.parseString(passed, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        assertEquals(ConfigValueType.BOOLEAN, overall.getValue("valid").valueType());
        assertEquals(true, overall.getBoolean("valid"));
    }
}
