package io.tributary.cli;

import com.typesafe.config.Config;
import io.tributary.config.ConfigError;
import io.tributary.config.ConfigLoader;
import io.tributary.kernels.BackendUnavailableException;
import io.tributary.trainer.data.DataFormatException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code tributary} command. Errors a user can fix (configuration, data, flags, a missing
 * GPU) end the process with exit status 2 and one line that says what to do.
 */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    static final String USAGE = String.join("\n",
            "usage: tributary <command> [options]",
            "",
            "commands:",
            "  train --local      train the configured model in this one process (MNIST MLP by default)",
            "  help               show this text",
            "",
            "options:",
            "  --config FILE      a HOCON file with tributary.* settings (see config/)",
            "  --backend MODE     auto (GPU if usable, else CPU), cpu or cuda",
            "  --epochs N         passes over the training set (default 5)",
            "  --batch-size N     samples per step (default 128)",
            "  --seed N           seed for weights and shuffling (default 42)",
            "  --data DIR         directory of the MNIST IDX files (default ~/.cache/tributary/mnist)",
            "  --dataset NAME     mnist or synthetic",
            "  --train-limit N    use only the first N training samples",
            "  --set KEY=VALUE    set any config key, e.g. --set tributary.optimizer.learning-rate=0.002");

    private static final Map<String, String> FLAG_KEYS = Map.of(
            "--backend", "tributary.backend.mode",
            "--epochs", "tributary.train.epochs",
            "--batch-size", "tributary.train.batch-size",
            "--seed", "tributary.train.seed",
            "--data", "tributary.data.dir",
            "--dataset", "tributary.data.set",
            "--train-limit", "tributary.data.train-limit");

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            return dispatch(args, out);
        } catch (UsageError e) {
            err.println("tributary: " + e.getMessage());
            err.println("run 'tributary help' for the commands and options");
            return 2;
        } catch (ConfigError | DataFormatException | BackendUnavailableException | IllegalArgumentException e) {
            err.println("tributary: error: " + e.getMessage());
            return 2;
        } catch (RuntimeException | OutOfMemoryError e) {
            LOG.error("tributary stopped on an unexpected error; please report it with this log", e);
            err.println("tributary: internal error: " + e);
            return 1;
        }
    }

    private static int dispatch(String[] args, PrintStream out) {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
            out.println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        boolean local = false;
        Path configFile = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
        for (int i = 0; i < rest.size(); i++) {
            String a = rest.get(i);
            if (a.equals("--local")) {
                local = true;
            } else if (a.equals("--config")) {
                configFile = Path.of(value(rest, ++i, a));
            } else if (a.equals("--set")) {
                String kv = value(rest, ++i, a);
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new UsageError("--set needs KEY=VALUE, got '" + kv + "'");
                }
                overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            } else if (FLAG_KEYS.containsKey(a)) {
                overrides.put(FLAG_KEYS.get(a), value(rest, ++i, a));
            } else {
                throw new UsageError("unknown option '" + a + "' for '" + command + "'");
            }
        }
        switch (command) {
            case "train":
                if (!local) {
                    throw new UsageError("'train' runs in one process only for now: add --local");
                }
                Config config = ConfigLoader.load(configFile, overrides);
                new TrainLocalCommand(config, out).run();
                return 0;
            default:
                throw new UsageError("unknown command '" + command + "'");
        }
    }

    private static String value(List<String> args, int i, String flag) {
        if (i >= args.size() || args.get(i).startsWith("--")) {
            throw new UsageError(flag + " needs a value");
        }
        return args.get(i);
    }

    /** The command line itself is wrong. */
    static final class UsageError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageError(String message) {
            super(message);
        }
    }
}
