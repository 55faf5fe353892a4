package io.tributary.cli;

import io.tributary.node.NodeCommand;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code tributary} command: its subcommands, {@code --help} and {@code --version}. Exit
 * statuses and error lines are {@link CommandRunner}'s: 0 done, 2 a usage error or one the user can
 * fix (one line that says what to do), 1 an unexpected error (logged).
 */
@Command(name = "tributary", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Distributed training on Pekko and Aeron: a local cluster, cluster nodes, and the records"
                + " of their runs.",
        commandListHeading = "%nCommands (each takes --help):%n",
        footer = {"",
            "Chaos experiments run from the chaos-tests jar: bin/tributary chaos run FILE (see bin/tributary chaos"
                    + " --help)."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:done",
            "1:an unexpected error (the log has the details)",
            "2:a usage error, or one you can fix: one line on stderr says what to do"})
public final class Main implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        return CommandRunner.execute(commandLine(out, err), args, out, err);
    }

    /** The whole command tree; commands print to {@code out} and {@code err}. */
    static CommandLine commandLine(PrintStream out, PrintStream err) {
        Path runs = Path.of("runs");
        return new CommandLine(new Main())
                .addSubcommand(new DemoClusterCommand(out))
                .addSubcommand(NodeCommand.commandLine(out, err))
                .addSubcommand(HistoryCommand.commandLine(out, runs))
                .addSubcommand(CreditsCommand.commandLine(out, runs))
                .addSubcommand(PlotCommand.commandLine(out))
                .addSubcommand(CertsCommand.commandLine(out))
                .addSubcommand(new TrainCommand(out))
                .addSubcommand(GenerateCommand.commandLine(out))
                .addSubcommand("help", new CommandLine.HelpCommand());
    }

    /** A bare {@code tributary}: the usage on stderr, exit status 2. */
    @Override
    public Integer call() {
        return CommandRunner.usageOnStderr(spec);
    }
}
