package io.tributary.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tributary plot RUN-DIR [--out FILE]}: draws a run's scalars (loss, test accuracy, samples per second,
 * data-plane bytes, fault windows of a chaos run) as a PNG, by default {@code RUN-DIR/plot.png}.
 */
@Command(name = "plot", synopsisSubcommandLabel = "",
        description = {"Draw a run's loss, test accuracy, samples/s and data-plane bytes (and a chaos run's faults)"
                + " as a PNG."},
        footer = {"", "RUN-DIR is a run folder with a scalars.jsonl: runs/demo-*, runs/chaos-*, or a",
            "coordinator's --run-dir."})
final class PlotCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN-DIR", description = "the run folder")
    Path dir;

    @Option(names = "--out", paramLabel = "FILE", description = "the PNG to write (default RUN-DIR/plot.png)")
    Path out;

    @Mixin
    final HelpOption help = new HelpOption();

    private final PrintStream stdout;

    private PlotCommand(PrintStream stdout) {
        this.stdout = stdout;
    }

    static CommandLine commandLine(PrintStream out) {
        return new CommandLine(new PlotCommand(out));
    }

    @Override
    public Integer call() throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is not a folder: give a run folder (runs/demo-*, runs/chaos-*)");
        }
        RunPlot.Drawn d = RunPlot.drawRun(dir, out != null ? out : dir.resolve("plot.png"));
        RunPlot.Series s = d.series();
        stdout.println("wrote " + d.png() + " (" + s.loss().size() + " steps, " + s.accuracy().size() + " evaluations, "
                + s.faults().size() + " fault windows)");
        return CommandRunner.OK;
    }
}
