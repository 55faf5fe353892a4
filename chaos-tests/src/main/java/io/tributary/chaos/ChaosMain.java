package io.tributary.chaos;

import java.nio.file.Path;
import java.util.Locale;

/** {@code tributary chaos run FILE}: runs one scenario and prints the verdicts and the results folder. */
public final class ChaosMain {

    private ChaosMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length != 2 || !args[0].equals("run")) {
            System.err.println("usage: tributary chaos run config/chaos/<scenario>.conf");
            return 2;
        }
        Scenario scenario;
        try {
            scenario = Scenario.load(Path.of(args[1]));
        } catch (ScenarioException e) {
            System.err.println("tributary: error: " + e.getMessage());
            return 2;
        }
        try {
            ChaosRunner.Outcome o = new ChaosRunner(scenario, Path.of("runs"), System.out).run();
            System.out.println();
            for (ChaosRunner.Verdict v : o.verdicts()) {
                System.out.printf(Locale.ROOT, "  %-42s %-8s %s%n", v.checker(), v.valid(), v.detail());
            }
            System.out.println("overall valid: " + o.overall());
            System.out.println("results: " + o.resultsDir().toAbsolutePath() + " (results.json, events.log, chart.png)");
            return o.overall().equals("false") ? 1 : 0;
        } catch (Exception e) {
            System.err.println("tributary: chaos run failed: " + e);
            return 1;
        }
    }
}
