package io.tributary.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.tributary.coordinator.RunRecorder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code tributary credits [DIR]}: the credit ledger of a run as a table: per trainer its node,
 * samples, steps, compute time, gradient slices accepted and rejected, reputation and status. The
 * coordinator rewrites {@code credits.json} in the run folder at every evaluation, at a quarantine
 * and at the end, so this works for a running cluster (as of its last evaluation) and a finished
 * run. DIR is a run folder or the file; by default the newest folder under {@code runs/} that has one.
 */
@Command(name = "credits", synopsisSubcommandLabel = "",
        description = {"A run's credit ledger: samples, compute, accepted and rejected gradient slices, reputation and"
                + " status per trainer."},
        footer = {"", "DIR is a run folder (runs/demo-*, runs/chaos-*, a node's",
            "tributary.cluster.run-dir) or its credits.json; by default the newest folder",
            "under runs/ with a credits.json."})
final class CreditsCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIR", arity = "0..1", description = "the run (default: the newest with a ledger)")
    Path dir;

    @Mixin
    final HelpOption help = new HelpOption();

    private final PrintStream out;
    private final Path runsDir;

    private CreditsCommand(PrintStream out, Path runsDir) {
        this.out = out;
        this.runsDir = runsDir;
    }

    /** The command; it looks for runs in {@code runsDir} and prints to {@code out}. */
    static CommandLine commandLine(PrintStream out, Path runsDir) {
        CommandLine commandLine = new CommandLine(new CreditsCommand(out, runsDir));
        // 'credits help' has always printed the usage; DIR is the command's argument, so it stays unlisted
        CommandLine help = new CommandLine(new CommandLine.HelpCommand());
        help.getCommandSpec().usageMessage().hidden(true);
        commandLine.addSubcommand("help", help);
        return commandLine;
    }

    /** Runs {@code tributary credits ARGS} on its own; returns the exit status. */
    static int run(List<String> args, PrintStream out, PrintStream err, Path runsDir) {
        return CommandRunner.execute(commandLine(out, runsDir).setCommandName("tributary credits"),
                args.toArray(String[]::new), out, err);
    }

    @Override
    public Integer call() throws IOException {
        show(creditsFile(dir, runsDir), out);
        return CommandRunner.OK;
    }

    static Path creditsFile(Path dir, Path runsDir) throws IOException {
        if (dir != null) {
            if (Files.isRegularFile(dir)) {
                return dir;
            }
            Path f = dir.resolve(RunRecorder.CREDITS_FILE);
            if (Files.isRegularFile(f)) {
                return f;
            }
            throw new IllegalArgumentException("no " + RunRecorder.CREDITS_FILE + " in " + dir
                    + ": give a run folder (the coordinator writes it at the run's first evaluation)");
        }
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(runsDir)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(runsDir)) {
                for (Path p : s) {
                    if (Files.isRegularFile(p.resolve(RunRecorder.CREDITS_FILE))) {
                        found.add(p.resolve(RunRecorder.CREDITS_FILE));
                    }
                }
            }
        }
        Comparator<Path> byTime = Comparator.comparing(CreditsCommand::modified);
        return found.stream().max(byTime).orElseThrow(() -> new IllegalArgumentException("no run folder under "
                + runsDir + " has a " + RunRecorder.CREDITS_FILE + "; give one: tributary credits DIR"));
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static void show(Path file, PrintStream out) throws IOException {
        Config c;
        try {
            c = ConfigFactory.parseString(Files.readString(file),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON).setOriginDescription(file.toString()));
        } catch (ConfigException e) {
            throw new IllegalArgumentException(file + " is not a credit ledger: " + e.getMessage(), e);
        }
        try {
            out.printf(Locale.ROOT, "credits of run %d as of step %d (%s; quarantine below reputation %.2f)%n%n",
                    c.getLong("run"), c.getLong("step"), file, c.getDouble("quarantine_below"));
            out.printf(Locale.ROOT, "%7s  %-34s %10s %7s %10s %9s %9s %9s %10s  %s%n", "trainer", "node", "samples",
                    "steps", "compute s", "accepted", "outliers", "rejected", "reputation", "status");
            long samples = 0;
            for (Config t : c.getConfigList("trainers")) {
                samples += t.getLong("samples");
                // ledgers written before outliers were counted lack the key: show 0
                long outliers = t.hasPath("outliers") ? t.getLong("outliers") : 0;
                out.printf(Locale.ROOT, "%7d  %-34s %,10d %7d %10.1f %9d %9d %9d %10.2f  %s%n", t.getInt("trainer"),
                        t.getString("node"), t.getLong("samples"), t.getLong("steps"), t.getDouble("compute_seconds"),
                        t.getLong("accepted"), outliers, t.getLong("rejected"), t.getDouble("reputation"),
                        t.getString("status"));
            }
            out.printf(Locale.ROOT, "%n%,d samples in all; accepted/rejected count gradient slices (one per shard per step); "
                    + "outliers: accepted slices a robust rule clipped or trimmed%n",
                    samples);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(file + " is not a credit ledger: " + e.getMessage(), e);
        }
    }
}
