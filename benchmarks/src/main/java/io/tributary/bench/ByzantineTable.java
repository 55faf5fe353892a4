package io.tributary.bench;

import io.tributary.coordinator.TrainingCoordinator.RunResult;
import io.tributary.demo.DemoCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * Final MNIST test accuracy of a local cluster (1 ps + 5 trainers, one sync epoch) when trainer 5
 * is Byzantine, for each aggregation rule given on the command line, next to the clean run of the
 * same rule, all in one run of this program. Usage: {@code ByzantineTable ATTACK RULE...}, e.g.
 * {@code sign-flip-scale mean centered-clipping} (see {@code scripts/bench-byzantine.sh}).
 */
public final class ByzantineTable {

    private ByzantineTable() {
    }

    public static void main(String[] args) throws Exception {
        String attack = args.length > 0 ? args[0] : "sign-flip-scale";
        String[] rules = args.length > 1 ? java.util.Arrays.copyOfRange(args, 1, args.length) : new String[] {"mean"};
        System.out.println("# 1 ps + 5 trainers, one MNIST epoch, sync, batch 128; trainer 5 attacks with " + attack);
        System.out.println();
        System.out.println("| rule | clean accuracy | with 1 of 5 Byzantine | difference (points) |");
        System.out.println("|---|---|---|---|");
        for (String rule : rules) {
            double clean = run(rule, "none");
            double attacked = run(rule, attack);
            System.out.printf(Locale.ROOT, "| %s | %.2f%% | %.2f%% | %+.2f |%n", rule, clean * 100, attacked * 100,
                    (attacked - clean) * 100);
        }
    }

    private static double run(String rule, String attack) throws Exception {
        Path runs = Files.createTempDirectory("tributary-byzantine");
        DemoCommand.Options options = new DemoCommand.Options(5, 1, null,
                Map.of("tributary.train.epochs", "1", "tributary.trust.aggregation", rule), runs, Duration.ofMinutes(20),
                Map.of(5, Map.of("tributary.trainer.attack", attack)));
        RunResult r = new DemoCommand(options, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8)).run();
        return r.accuracy();
    }
}
