package io.tributary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.coordinator.CreditLedger;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CreditsCommandTest {

    @TempDir
    Path runs;

    @Test
    void printsTheNewestRunsLedgerAsATable() throws Exception {
        CreditLedger ledger = new CreditLedger(0.02, 0.5);
        ledger.admitted(0, "node-a");
        ledger.admitted(1, "node-b");
        ledger.served(0, 100);
        ledger.computed(0, 1_500_000_000L);
        ledger.sliceVerdicts(Set.of(0, 1), Set.of(1), Set.of());
        ledger.status(1, CreditLedger.Status.QUARANTINED);
        Path run = Files.createDirectories(runs.resolve("demo-20261125-220000"));
        Files.writeString(run.resolve("credits.json"), ledger.toJson(42, 7));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = CreditsCommand.run(List.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), runs);
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        assertTrue(text.contains("credits of run 42 as of step 7"), text);
        assertTrue(text.lines().anyMatch(l -> l.contains("node-a") && l.contains("100") && l.contains("1.00")
                && l.endsWith("live")), text);
        assertTrue(text.lines().anyMatch(l -> l.contains("node-b") && l.contains("0.98") && l.endsWith("quarantined")),
                text);
    }

    @Test
    void aTruncatedLedgerOrAMissingOneIsAOneLineError() throws Exception {
        Path run = Files.createDirectories(runs.resolve("demo-x"));
        Files.writeString(run.resolve("credits.json"), "{\"run\": 1, \"trainers\": [");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, CreditsCommand.run(List.of(run.toString()), System.out, errStream, runs));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("is not a credit ledger"), err.toString());
        err.reset();
        assertEquals(2, CreditsCommand.run(List.of(runs.resolve("nowhere").toString()), System.out, errStream, runs));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("no credits.json in"), err.toString());
    }
}
