package io.tributary.cli;

import com.typesafe.config.Config;
import io.tributary.config.ConfigLoader;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tributary train --local}: reads the options and hands the configuration to {@link TrainLocalCommand}. */
@Command(name = "train",
        description = "Train the configured model in this one process (the MNIST MLP by default).")
final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--local", description = "train in this one process (needed for now; a cluster trains with"
            + " 'demo' or 'node')")
    boolean local;

    @Mixin
    final TrainingOptions training = new TrainingOptions();

    @Mixin
    final HelpOption help = new HelpOption();

    private final PrintStream out;

    TrainCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        if (!local) {
            throw new ParameterException(spec.commandLine(), "'train' runs in one process only for now: add --local");
        }
        Config config = ConfigLoader.load(training.configFile(), training.overrides());
        new TrainLocalCommand(config, out).run();
        return CommandRunner.OK;
    }
}
