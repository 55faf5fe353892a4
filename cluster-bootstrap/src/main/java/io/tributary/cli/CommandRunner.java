package io.tributary.cli;

import io.tributary.config.ConfigError;
import io.tributary.kernels.BackendUnavailableException;
import io.tributary.node.NodeStartException;
import io.tributary.trainer.data.DataFormatException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Runs a command tree the way every {@code tributary} command behaves. {@code --help} and
 * {@code --version}: stdout, exit status {@value #OK}. A wrong command line: one line on stderr
 * (with picocli's suggestion for a typo) and a pointer to the command's help, status
 * {@value #USAGE}. An error the user can fix (configuration, data, a missing GPU, a node that cannot
 * start, a file): one line {@code tributary: error: ...}, status {@value #USAGE}. Anything else is
 * logged with its stack trace, status {@value #SOFTWARE}.
 */
public final class CommandRunner {

    /** Done. */
    public static final int OK = 0;
    /** An unexpected error; the log has the stack trace. */
    public static final int SOFTWARE = 1;
    /** A usage error or an error the user can fix; one line on stderr says what to do. */
    public static final int USAGE = 2;

    private static final Logger LOG = LoggerFactory.getLogger(CommandRunner.class);
    private static final List<Class<? extends Throwable>> FIXABLE = List.of(ConfigError.class,
            DataFormatException.class, BackendUnavailableException.class, NodeStartException.class,
            IllegalArgumentException.class, IllegalStateException.class, IOException.class);
    private static final int MAX_SUGGESTIONS = 3;

    private CommandRunner() {
    }

    /**
     * Parses {@code args} with {@code commandLine} (built with every subcommand already added), runs
     * the command they name and returns its exit status.
     */
    public static int execute(CommandLine commandLine, String[] args, PrintStream out, PrintStream err) {
        PrintWriter o = new PrintWriter(out, true);
        PrintWriter e = new PrintWriter(err, true);
        // Settings reach the subcommands present now: call this on the finished tree.
        commandLine.setOut(o)
                .setErr(e)
                // a later --epochs or --set wins, as it always has
                .setOverwrittenOptionsAllowed(true)
                // an argument starting with @ is a file name, not a file of arguments
                .setExpandAtFiles(false)
                .setParameterExceptionHandler(CommandRunner::usageError)
                .setExecutionExceptionHandler(CommandRunner::failed);
        try {
            return commandLine.execute(args);
        } catch (Error error) {
            // an OutOfMemoryError, a broken class path: what a command throws that picocli passes through
            return internalError(error, e);
        } finally {
            o.flush();
            e.flush();
        }
    }

    /** Prints the usage of the command {@code spec} describes on stderr; for a command that needs a subcommand. */
    public static int usageOnStderr(CommandSpec spec) {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    private static int usageError(ParameterException ex, String[] args) {
        CommandLine command = ex.getCommandLine();
        PrintWriter err = command.getErr();
        err.println("tributary: " + describe(ex));
        if (ex instanceof UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            List<String> s = u.getSuggestions();
            err.println("did you mean " + String.join(" or ", s.subList(0, Math.min(MAX_SUGGESTIONS, s.size()))) + "?");
        }
        err.println("see '" + command.getCommandSpec().qualifiedName(" ") + " --help'");
        return USAGE;
    }

    /** One line for a wrong command line; option names first, in the words the commands always used. */
    static String describe(ParameterException ex) {
        CommandSpec spec = ex.getCommandLine().getCommandSpec();
        String where = path(spec);
        String forWhere = where.isEmpty() ? "" : " for '" + where + "'";
        if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String first = u.getUnmatched().get(0);
            if (first.startsWith("-")) {
                return "unknown option '" + first + "'" + forWhere;
            }
            List<String> commands = new ArrayList<>(spec.subcommands().keySet());
            commands.remove("help");
            if (!commands.isEmpty()) {
                return "unknown " + (where.isEmpty() ? "" : where + " ") + "command '" + first + "'; use "
                        + either(commands);
            }
            return "unexpected argument '" + first + "'" + forWhere;
        }
        if (ex instanceof MissingParameterException m && !m.getMissing().isEmpty()) {
            ArgSpec missing = m.getMissing().get(0);
            if (missing instanceof OptionSpec option) {
                return option.longestName() + " needs a value";
            }
            return (where.isEmpty() ? "" : "'" + where + "' ") + "needs " + missing.paramLabel();
        }
        if (ex.getCause() instanceof TypeConversionException t && ex.getArgSpec() instanceof OptionSpec option) {
            return option.longestName() + " " + t.getMessage();
        }
        return ex.getMessage();
    }

    /** "history show" for {@code tributary history show}; "" for {@code tributary} itself. */
    private static String path(CommandSpec spec) {
        String name = spec.qualifiedName(" ");
        return name.equals("tributary") ? "" : name.startsWith("tributary ") ? name.substring("tributary ".length()) : name;
    }

    private static String either(List<String> names) {
        if (names.size() == 1) {
            return names.get(0);
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }

    private static int failed(Exception ex, CommandLine command, CommandLine.ParseResult parsed) {
        // picocli wraps what a command throws that is not an Exception (an OutOfMemoryError, say)
        Throwable cause = ex instanceof CommandLine.ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
        PrintWriter err = command.getErr();
        if (FIXABLE.stream().anyMatch(c -> c.isInstance(cause))) {
            err.println("tributary: error: " + cause.getMessage());
            return USAGE;
        }
        return internalError(cause, err);
    }

    private static int internalError(Throwable cause, PrintWriter err) {
        LOG.error("tributary stopped on an unexpected error; please report it with this log", cause);
        err.println("tributary: internal error: " + cause);
        return SOFTWARE;
    }
}
