package io.tributary.bench;

import io.tributary.coordinator.RunResult;
import io.tributary.demo.DemoCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Final MNIST test accuracy of a local cluster (1 ps + 5 trainers, one sync epoch, global batch 128)
 * when trainer 5 is Byzantine: for each aggregation rule, one clean run and one run per attack, all
 * in one run of this program, with {@code tributary.trust.mode = untrusted}.
 *
 * <p>Usage: {@code ByzantineTable RULES ATTACKS [key=value ...]}, RULES and ATTACKS comma-separated,
 * e.g. {@code auto,mean,median sign-flip,scale,nan,little-is-enough}; {@code auto} is the untrusted
 * default. Extra {@code key=value} pairs go to every node's config (e.g.
 * {@code tributary.trust.clip-momentum=0.9}). A cell reads the attacked accuracy, its difference
 * from the rule's clean run in points, and {@code Q} when the attacker was quarantined (from the
 * run's {@code credits.json}). See {@code scripts/bench-byzantine.sh}.
 */
public final class ByzantineTable {

    private ByzantineTable() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ByzantineTable RULES ATTACKS [key=value ...]   e.g. auto,median sign-flip,nan");
            System.exit(2);
        }
        String[] rules = args[0].split(",");
        String[] attacks = args[1].split(",");
        Map<String, String> extra = new HashMap<>();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("not key=value: " + args[i]);
                System.exit(2);
            }
            extra.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        System.out.println("# 1 ps + 5 trainers, one MNIST epoch, sync, global batch 128, trust mode untrusted; trainer 5 attacks"
                + (extra.isEmpty() ? "" : "; also " + extra));
        System.out.println("# cell: accuracy with the attack (difference from the rule's clean run, points; Q: attacker quarantined)");
        System.out.println();
        StringBuilder head = new StringBuilder("| rule | clean |");
        StringBuilder line = new StringBuilder("|---|---|");
        for (String a : attacks) {
            head.append(' ').append(a).append(" |");
            line.append("---|");
        }
        System.out.println(head);
        System.out.println(line);
        for (String rule : rules) {
            Outcome clean = run(rule, "none", extra);
            System.out.printf(Locale.ROOT, "| %s | %.2f%% |", rule, clean.accuracy * 100);
            System.out.flush();
            for (String attack : attacks) {
                Outcome o = run(rule, attack, extra);
                System.out.printf(Locale.ROOT, " %.2f%% (%+.2f%s) |", o.accuracy * 100,
                        (o.accuracy - clean.accuracy) * 100, o.attackerQuarantined ? ", Q" : "");
                System.out.flush();
            }
            System.out.println();
        }
    }

    private record Outcome(double accuracy, boolean attackerQuarantined) {
    }

    private static Outcome run(String rule, String attack, Map<String, String> extra) throws Exception {
        Path runs = Files.createTempDirectory("tributary-byzantine");
        System.err.println("# " + java.time.LocalTime.now().withNano(0) + " rule " + rule + ", attack " + attack + ": " + runs);
        Map<String, String> config = new HashMap<>(extra);
        config.put("tributary.train.epochs", "1");
        config.put("tributary.trust.mode", "untrusted");
        config.put("tributary.trust.aggregation", rule);
        DemoCommand.Options options = new DemoCommand.Options(5, 1, null, config, runs, Duration.ofMinutes(20),
                Map.of(5, Map.of("tributary.trainer.attack", attack)));
        RunResult r = new DemoCommand(options, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8)).run();
        return new Outcome(r.accuracy(), quarantined(runs));
    }

    /** Whether the run's credits.json marks a trainer quarantined (only trainer 5 attacks). */
    private static boolean quarantined(Path runs) throws IOException {
        List<Path> ledgers = new ArrayList<>();
        try (Stream<Path> files = Files.walk(runs)) {
            files.filter(p -> p.getFileName().toString().equals("credits.json")).forEach(ledgers::add);
        }
        for (Path p : ledgers) {
            if (Files.readString(p).contains("\"status\": \"quarantined\"")) {
                return true;
            }
        }
        return false;
    }
}
