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
 * Robust aggregation against colluding attackers: for each cell n:f (n trainers of which the last f
 * attack, all with the same attack) and each attack, {@code seeds} seeds; per seed a clean run and an
 * attacked run of the same seed (1 ps, sync, global batch 128, trust mode untrusted, the default rule
 * unless {@code tributary.trust.aggregation} is given). A cell reads the mean difference of the attacked
 * from the clean accuracy in points over the seeds, their spread (min..max), and how many attackers
 * ended quarantined over all seeds. Extra {@code key=value} arguments go to every run (for instance
 * {@code tributary.data.train-limit=20000} for a shorter epoch).
 *
 * <p>Usage: {@code CollusionTable CELLS ATTACKS SEEDS [key=value ...]}, e.g.
 * {@code CollusionTable 5:2,6:2 little-is-enough,inner-product 3}.
 */
public final class CollusionTable {

    private CollusionTable() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: CollusionTable CELLS ATTACKS SEEDS [key=value ...]  (e.g. 5:2,6:2 "
                    + "little-is-enough,inner-product 3)");
            System.exit(2);
        }
        String[] cells = args[0].split(",");
        String[] attacks = args[1].split(",");
        int seeds = Integer.parseInt(args[2]);
        Map<String, String> extra = new HashMap<>();
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("not key=value: " + args[i]);
                System.exit(2);
            }
            extra.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        System.out.println("# colluding attackers: 1 ps + n trainers, the last f attack; sync, global batch 128, untrusted;"
                + " extra settings " + extra + "; " + seeds + " seeds per cell");
        System.out.println("# cell: attacked minus clean accuracy of the same seed, points: mean (min..max); quarantined"
                + " attackers over all seeds");
        System.out.println("| n:f | attack | clean accuracy (mean) | difference, mean (min..max) | quarantined |");
        System.out.println("|---|---|---|---|---|");
        for (String cell : cells) {
            String[] nf = cell.split(":");
            int n = Integer.parseInt(nf[0]);
            int f = Integer.parseInt(nf[1]);
            double[] clean = new double[seeds];
            for (int s = 0; s < seeds; s++) {
                clean[s] = run(n, 0, "none", s + 1, extra).accuracy;
            }
            for (String attack : attacks) {
                double sum = 0;
                double min = Double.MAX_VALUE;
                double max = -Double.MAX_VALUE;
                int quarantined = 0;
                for (int s = 0; s < seeds; s++) {
                    Outcome o = run(n, f, attack, s + 1, extra);
                    double d = (o.accuracy - clean[s]) * 100;
                    sum += d;
                    min = Math.min(min, d);
                    max = Math.max(max, d);
                    quarantined += o.quarantined;
                }
                double cleanMean = 0;
                for (double c : clean) {
                    cleanMean += c / seeds;
                }
                System.out.printf(Locale.ROOT, "| %d:%d | %s | %.2f%% | %+.2f (%+.2f..%+.2f) | %d of %d |%n", n, f, attack,
                        cleanMean * 100, sum / seeds, min, max, quarantined, f * seeds);
                System.out.flush();
            }
        }
    }

    private record Outcome(double accuracy, int quarantined) {
    }

    private static Outcome run(int trainers, int attackers, String attack, int seed, Map<String, String> extra)
            throws Exception {
        Path runs = Files.createTempDirectory("tributary-collusion");
        System.err.println("# " + java.time.LocalTime.now().withNano(0) + " " + trainers + " trainers, " + attackers
                + " " + attack + ", seed " + seed + ": " + runs);
        Map<String, String> config = new HashMap<>(extra);
        config.put("tributary.train.epochs", "1");
        config.put("tributary.train.seed", Integer.toString(seed));
        config.put("tributary.trust.mode", "untrusted");
        config.put("tributary.consistency.policy", "sync");
        Map<Integer, Map<String, String>> perTrainer = new HashMap<>();
        for (int t = trainers - attackers + 1; t <= trainers; t++) {
            perTrainer.put(t, Map.of("tributary.trainer.attack", attack));
        }
        DemoCommand.Options options = new DemoCommand.Options(trainers, 1, null, config, runs, Duration.ofMinutes(20),
                perTrainer);
        RunResult r = new DemoCommand(options, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8)).run();
        return new Outcome(r.accuracy(), quarantined(runs));
    }

    /** Trainers the run's credits.json marks quarantined. */
    private static int quarantined(Path runs) throws IOException {
        List<Path> ledgers = new ArrayList<>();
        try (Stream<Path> files = Files.walk(runs)) {
            files.filter(p -> p.getFileName().toString().equals("credits.json")).forEach(ledgers::add);
        }
        int n = 0;
        for (Path p : ledgers) {
            n += Files.readString(p).split("\"status\": \"quarantined\"", -1).length - 1;
        }
        return n;
    }
}
