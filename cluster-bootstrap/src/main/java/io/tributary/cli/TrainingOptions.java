package io.tributary.cli;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options {@code train} and {@code demo} share: a config file, the flags that set one config
 * key each, {@code --set} and {@code --resume}. They become config overrides in command-line order,
 * so a later flag for the same key wins. Values are passed on as given: the config loader checks
 * them and names the key when one is wrong.
 */
final class TrainingOptions {

    /** Each flag and the config key it sets. */
    static final Map<String, String> FLAG_KEYS = Map.of(
            "--backend", "tributary.backend.mode",
            "--epochs", "tributary.train.epochs",
            "--batch-size", "tributary.train.batch-size",
            "--seed", "tributary.train.seed",
            "--data", "tributary.data.dir",
            "--dataset", "tributary.data.set",
            "--train-limit", "tributary.data.train-limit",
            "--shards", "tributary.cluster.shards",
            "--policy", "tributary.consistency.policy",
            "--model", "tributary.model.kind");

    private final Map<String, String> overrides = new LinkedHashMap<>();
    private Path configFile;

    /** The config file, or null for the defaults alone. */
    Path configFile() {
        return configFile;
    }

    /** The config keys the command line sets, in the order given. */
    Map<String, String> overrides() {
        return Collections.unmodifiableMap(overrides);
    }

    @Option(names = "--config", paramLabel = "FILE", description = "a HOCON file with tributary.* settings (see config/)")
    void config(Path file) {
        configFile = file;
    }

    @Option(names = "--model", paramLabel = "KIND",
            description = "mlp (MNIST, the default) or gpt (a character-level transformer on Moby Dick; train --local only)")
    void model(String value) {
        flag("--model", value);
    }

    @Option(names = "--backend", paramLabel = "MODE", description = "auto (GPU if usable, else CPU), cpu or cuda")
    void backend(String value) {
        flag("--backend", value);
    }

    @Option(names = "--epochs", paramLabel = "N", description = "passes over the training set (default 5)")
    void epochs(String value) {
        flag("--epochs", value);
    }

    @Option(names = "--batch-size", paramLabel = "N", description = "samples per step (default 128)")
    void batchSize(String value) {
        flag("--batch-size", value);
    }

    @Option(names = "--seed", paramLabel = "N", description = "seed for weights and shuffling (default 42)")
    void seed(String value) {
        flag("--seed", value);
    }

    @Option(names = "--data", paramLabel = "DIR",
            description = {"directory of the MNIST IDX files", "(default ~/.cache/tributary/mnist)"})
    void data(String value) {
        flag("--data", value);
    }

    @Option(names = "--dataset", paramLabel = "NAME", description = "mnist or synthetic")
    void dataset(String value) {
        flag("--dataset", value);
    }

    @Option(names = "--train-limit", paramLabel = "N", description = "use only the first N training samples")
    void trainLimit(String value) {
        flag("--train-limit", value);
    }

    @Option(names = "--shards", paramLabel = "K", description = "parameter shards (default 4)")
    void shards(String value) {
        flag("--shards", value);
    }

    @Option(names = "--policy", paramLabel = "P", description = {"sync, bounded-staleness or local-sgd (rounds of",
        "tributary.consistency.inner-steps local steps)"})
    void policy(String value) {
        flag("--policy", value);
    }

    @Option(names = "--set", paramLabel = "KEY=VALUE", converter = ConfigSetting.class,
            description = {"set any config key; repeat it for more, e.g.",
                "--set tributary.optimizer.learning-rate=0.002"})
    void set(Map.Entry<String, String> setting) {
        overrides.put(setting.getKey(), setting.getValue());
    }

    @Option(names = "--resume", paramLabel = "PATH",
            description = {"go on from a checkpoint: a step-N.safetensors, or a run",
                "folder (its last one); the optimizer's moments start",
                "again from zero"})
    void resume(Path checkpoint) {
        // absolute: the demo's child JVMs read it too
        overrides.put("tributary.cluster.resume-from", checkpoint.toAbsolutePath().toString());
    }

    private void flag(String flag, String value) {
        overrides.put(FLAG_KEYS.get(flag), value);
    }
}
