package io.tributary.cli;

import io.tributary.history.ModelHistory;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tributary history show|verify [DIR]}: prints a run's model history as a table, or checks
 * its hash chain and checkpoints. DIR is a history folder, a run folder holding one, or the log
 * itself; by default the newest {@code runs/demo-*} folder's. Exit status: 0 fine, 1 the history
 * does not verify, 2 a usage or file error.
 */
@Command(name = "history",
        description = "A run's model history as a table, or check its hash chain and checkpoints.",
        footer = {"", "DIR is a history folder, a run folder with one, or a history.jsonl file; by default the"
                + " newest runs/demo-*/history."})
final class HistoryCommand implements Callable<Integer> {

    private static final int HASH_PREFIX = 12;

    @Spec
    CommandSpec spec;

    @Mixin
    final HelpOption help = new HelpOption();

    private final PrintStream out;
    private final Path runsDir;

    private HistoryCommand(PrintStream out, Path runsDir) {
        this.out = out;
        this.runsDir = runsDir;
    }

    /** The command with its subcommands; it looks for runs in {@code runsDir} and prints to {@code out}. */
    static CommandLine commandLine(PrintStream out, Path runsDir) {
        return new CommandLine(new HistoryCommand(out, runsDir)).addSubcommand("help", new CommandLine.HelpCommand());
    }

    /** Runs {@code tributary history ARGS} on its own; returns the exit status. */
    static int run(List<String> args, PrintStream out, PrintStream err, Path runsDir) {
        return CommandRunner.execute(commandLine(out, runsDir).setCommandName("tributary history"),
                args.toArray(String[]::new), out, err);
    }

    /** A bare {@code tributary history}: the usage on stderr, exit status 2. */
    @Override
    public Integer call() {
        return CommandRunner.usageOnStderr(spec);
    }

    @Command(name = "show", description = "The entries: version, accuracy, loss, contributors, checkpoint, hash.")
    int show(@Parameters(paramLabel = "DIR", arity = "0..1", description = "the history (default: the newest demo run's)")
             Path dir, @Mixin HelpOption help) throws IOException {
        show(historyFile(dir, runsDir), out);
        return 0;
    }

    @Command(name = "verify", description = "Recompute every hash and checkpoint SHA-256; exit 1 at the first mismatch.",
            exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {"0:the history verifies", "1:it does not: the first mismatch is printed",
                "2:a usage or file error"})
    int verify(@Parameters(paramLabel = "DIR", arity = "0..1", description = "the history (default: the newest demo run's)")
               Path dir, @Mixin HelpOption help) throws IOException {
        ModelHistory.VerifyResult r = ModelHistory.verify(historyFile(dir, runsDir));
        out.println(r.message());
        return r.ok() ? 0 : 1;
    }

    /** The log DIR names, or the newest demo run's when DIR is null. */
    static Path historyFile(Path dir, Path runsDir) throws IOException {
        if (dir == null) {
            Path newest = newestDemoRun(runsDir);
            Path log = newest.resolve("history").resolve(ModelHistory.FILE_NAME);
            if (!Files.isRegularFile(log)) {
                throw new IllegalArgumentException("the newest run " + newest + " has no history/" + ModelHistory.FILE_NAME
                        + "; give a folder: tributary history show DIR");
            }
            return log;
        }
        if (Files.isRegularFile(dir)) {
            return dir;
        }
        for (Path candidate : List.of(dir.resolve(ModelHistory.FILE_NAME),
                dir.resolve("history").resolve(ModelHistory.FILE_NAME))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("no " + ModelHistory.FILE_NAME + " in " + dir + " or " + dir.resolve("history")
                + "; give a run's history folder");
    }

    private static Path newestDemoRun(Path runsDir) throws IOException {
        List<Path> runs = new ArrayList<>();
        if (Files.isDirectory(runsDir)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(runsDir, "demo-*")) {
                for (Path p : s) {
                    if (Files.isDirectory(p)) {
                        runs.add(p);
                    }
                }
            }
        }
        // demo-yyyyMMdd-HHmmss: the name orders by start time
        return runs.stream().max(Comparator.comparing(p -> p.getFileName().toString()))
                .orElseThrow(() -> new IllegalArgumentException("no " + runsDir.resolve("demo-*")
                        + " folder here; give a history folder: tributary history show DIR"));
    }

    private static void show(Path log, PrintStream out) throws IOException {
        List<ModelHistory.Entry> entries = ModelHistory.read(log);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"index", "version", "accuracy", "loss", "contributors", "checkpoint", "hash"});
        for (ModelHistory.Entry e : entries) {
            rows.add(new String[] {
                Long.toString(e.index()),
                Long.toString(e.version()),
                String.format(Locale.ROOT, "%.2f%%", e.accuracy() * 100),
                String.format(Locale.ROOT, "%.4f", e.loss()),
                contributors(e.contributors()),
                e.checkpoint(),
                e.hash().substring(0, HASH_PREFIX)});
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int c = 0; c < row.length; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        out.println("history " + log);
        for (String[] row : rows) {
            StringBuilder sb = new StringBuilder();
            for (int c = 0; c < row.length; c++) {
                boolean number = c <= 3;
                String cell = row[c];
                String pad = " ".repeat(widths[c] - cell.length());
                sb.append(number ? pad + cell : cell + (c == row.length - 1 ? "" : pad));
                if (c < row.length - 1) {
                    sb.append("  ");
                }
            }
            out.println(sb);
        }
        out.println(entries.size() + " entries (not verified; run 'tributary history verify')");
    }

    /** "1:33.3% 2:33.3% 3:33.4%", numeric ids in numeric order. */
    private static String contributors(Map<String, Double> shares) {
        if (shares.isEmpty()) {
            return "-";
        }
        List<Map.Entry<String, Double>> list = new ArrayList<>(shares.entrySet());
        list.sort(Comparator.comparing((Map.Entry<String, Double> e) -> numericOrMax(e.getKey()))
                .thenComparing(Map.Entry::getKey));
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Double> e : list) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(e.getKey()).append(':').append(String.format(Locale.ROOT, "%.1f%%", e.getValue() * 100));
        }
        return sb.toString();
    }

    private static long numericOrMax(String id) {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
