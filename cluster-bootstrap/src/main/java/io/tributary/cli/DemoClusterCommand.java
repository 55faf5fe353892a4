package io.tributary.cli;

import io.tributary.demo.DemoCommand;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import io.tributary.config.ConfigLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tributary demo}: reads the options and starts the local cluster {@link DemoCommand} runs. */
@Command(name = "demo",
        description = {"A local cluster of JVMs (1 coordinator, 2 ps, 3 trainers) trains the model together,",
            "by local SGD (rounds of 52 local steps) unless --policy, --set or --config names a policy."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:the run finished with a test accuracy above 0",
            "1:it finished at accuracy 0, or an unexpected error (see the log)",
            "2:a usage error, or one you can fix: one line says what to do"})
final class DemoClusterCommand implements Callable<Integer> {

    @Option(names = "--trainers", paramLabel = "N", converter = WholeNumber.class, description = "trainer JVMs (default 3)")
    int trainers = 3;

    @Option(names = "--ps", paramLabel = "N", converter = WholeNumber.class,
            description = "parameter-server JVMs (default 2)")
    int psNodes = 2;

    @Option(names = "--timeout", paramLabel = "SECONDS", converter = WholeNumber.class,
            description = "give up after this long (default 1800)")
    int timeoutSeconds = 1800;

    /** Accepted and ignored, as it always was: the demo is a cluster by definition. */
    @Option(names = "--local", hidden = true)
    boolean local;

    @Mixin
    final TrainingOptions training = new TrainingOptions();

    @Mixin
    final HelpOption help = new HelpOption();

    private final PrintStream out;

    DemoClusterCommand(PrintStream out) {
        this.out = out;
    }

    /** The demo's policy unless the user names one (flag, --set or config file): local SGD, the fastest here. */
    static final String DEFAULT_POLICY = "local-sgd";
    static final String POLICY_KEY = "tributary.consistency.policy";

    @Override
    public Integer call() {
        try {
            Map<String, String> overrides = new LinkedHashMap<>(training.overrides());
            Path config = training.configFile();
            // the policy as every layer (flags, --config, -D, application.conf) leaves it: local SGD only
            // where nothing but the defaults named one (a bad file fails here with its one-line reason)
            String origin = ConfigLoader.load(config, overrides).getValue(POLICY_KEY).origin().description();
            if (origin.contains("reference.conf")) {
                overrides.put(POLICY_KEY, DEFAULT_POLICY);
            }
            var result = new DemoCommand(new DemoCommand.Options(trainers, psNodes, config, overrides,
                    Path.of("runs"), Duration.ofSeconds(timeoutSeconds)), out).run();
            return result.accuracy() > 0 ? CommandRunner.OK : CommandRunner.SOFTWARE;
        } catch (IOException e) {
            throw new IllegalStateException("demo: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("demo interrupted", e);
        }
    }
}
