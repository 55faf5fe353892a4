package io.tributary.chaos;

import io.tributary.cli.CommandRunner;
import io.tributary.cli.HelpOption;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tributary chaos run FILE}: runs one scenario and prints the verdicts and the results folder.
 * Its exit status is the overall verdict: {@value #VALID} true, {@value #INVALID} false,
 * {@value #UNKNOWN} unknown; {@value CommandRunner#USAGE} for a wrong command line or scenario.
 */
@Command(name = "chaos",
        description = "Chaos experiments: a local cluster, the faults of a scenario, the checkers' verdicts.",
        exitCodeListHeading = "%nExit status (of 'chaos run'):%n",
        exitCodeList = {
            "0:every verdict is true",
            "1:a verdict is false (or an unexpected error: the log has the details)",
            "2:a usage error, or a scenario or file to fix: one line says what",
            "3:no verdict is false but at least one is unknown"})
public final class ChaosMain implements Callable<Integer> {

    /** The overall verdict is true. */
    static final int VALID = 0;
    /** A verdict is false. */
    static final int INVALID = 1;
    /** No verdict is false, but one is unknown: the run could not tell. */
    static final int UNKNOWN = 3;

    @Spec
    CommandSpec spec;

    @Mixin
    final HelpOption help = new HelpOption();

    private final PrintStream out;
    private final Path runsDir;

    private ChaosMain(PrintStream out, Path runsDir) {
        this.out = out;
        this.runsDir = runsDir;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Path.of("runs")));
    }

    /** Runs {@code tributary chaos ARGS}, writing results under {@code runsDir}; returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err, Path runsDir) {
        CommandLine commandLine = new CommandLine(new ChaosMain(out, runsDir))
                .setCommandName("tributary chaos")
                .addSubcommand("help", new CommandLine.HelpCommand());
        return CommandRunner.execute(commandLine, args, out, err);
    }

    /** The exit status for an overall verdict: "true", "false" or "unknown". */
    static int exitStatus(String overall) {
        return switch (overall) {
            case "true" -> VALID;
            case "false" -> INVALID;
            case "unknown" -> UNKNOWN;
            default -> throw new IllegalArgumentException("no exit status for the verdict '" + overall
                    + "': a verdict is true, false or unknown");
        };
    }

    /** A bare {@code tributary chaos}: the usage on stderr, exit status 2. */
    @Override
    public Integer call() {
        return CommandRunner.usageOnStderr(spec);
    }

    @Command(name = "run",
            description = {"Run one scenario and write its verdicts (results.json), events (events.log) and chart"
                    + " (chart.png) to runs/chaos-NAME-TIME/."},
            exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {
                "0:every verdict is true",
                "1:a verdict is false (or an unexpected error: the log has the details)",
                "2:a usage error, or a scenario or file to fix: one line says what",
                "3:no verdict is false but at least one is unknown"})
    int runScenario(@Parameters(paramLabel = "FILE", description = "a scenario, e.g. config/chaos/kill-trainer.conf")
                    Path file, @Mixin HelpOption help) throws IOException {
        Scenario scenario;
        try {
            scenario = Scenario.load(file);
        } catch (ScenarioException e) {
            // the message names the file, the key and its line: a usage error
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        ChaosRunner.Outcome o;
        try {
            o = new ChaosRunner(scenario, runsDir, out).run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("the chaos run was interrupted; its JVMs are stopped", e);
        }
        out.println();
        for (ChaosRunner.Verdict v : o.verdicts()) {
            out.printf(Locale.ROOT, "  %-42s %-8s %s%n", v.checker(), v.valid(), v.detail());
        }
        out.println("overall valid: " + o.overall());
        out.println("results: " + o.resultsDir().toAbsolutePath() + " (results.json, events.log, chart.png)");
        return exitStatus(o.overall());
    }
}
