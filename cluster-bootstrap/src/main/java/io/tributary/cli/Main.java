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
            "  demo               a local cluster of JVMs (1 coordinator, 2 ps, 3 trainers) trains the model together",
            "  node               run one cluster node (see 'tributary node --help')",
            "  history show|verify [DIR]  a run's model history as a table, or check its hash chain and checkpoints",
            "  credits [DIR]      a run's credit ledger: samples, compute, accepted/rejected slices, reputation per trainer",
            "  certs init|sign|revoke  make a cluster CA, sign a node certificate with its roles, or revoke one",
            "  chaos run FILE     run a chaos scenario (config/chaos/*.conf) and write its verdicts and chart",
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
            "  --set KEY=VALUE    set any config key, e.g. --set tributary.optimizer.learning-rate=0.002",
            "",
            "demo options:",
            "  --trainers N       trainer JVMs (default 3)",
            "  --ps N             parameter-server JVMs (default 2)",
            "  --shards K         parameter shards (default 4)",
            "  --policy P         sync or bounded-staleness",
            "  --timeout SECONDS  give up after this long (default 1800)",
            "  --resume PATH      go on from a checkpoint (a step-N.safetensors, or a run folder: its last one);",
            "                     the optimizer's moments start again from zero");

    private static final Map<String, String> FLAG_KEYS = Map.of(
            "--backend", "tributary.backend.mode",
            "--epochs", "tributary.train.epochs",
            "--batch-size", "tributary.train.batch-size",
            "--seed", "tributary.train.seed",
            "--data", "tributary.data.dir",
            "--dataset", "tributary.data.set",
            "--train-limit", "tributary.data.train-limit",
            "--shards", "tributary.cluster.shards",
            "--policy", "tributary.consistency.policy");

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
        } catch (ConfigError | DataFormatException | BackendUnavailableException | IllegalArgumentException
                 | io.tributary.node.NodeStartException | IllegalStateException e) {
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
        if (command.equals("history")) {
            return HistoryCommand.run(List.of(args).subList(1, args.length), out, System.err);
        }
        if (command.equals("certs")) {
            return CertsCommand.run(List.of(args).subList(1, args.length), out, System.err);
        }
        if (command.equals("credits")) {
            return CreditsCommand.run(List.of(args).subList(1, args.length), out, System.err);
        }
        if (command.equals("node")) {
            return io.tributary.node.NodeCommand.run(List.of(args).subList(1, args.length), out, System.err);
        }
        boolean local = false;
        int trainers = 3;
        int psNodes = 2;
        long timeoutSeconds = 1800;
        Path configFile = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
        for (int i = 0; i < rest.size(); i++) {
            String a = rest.get(i);
            if (a.equals("--local")) {
                local = true;
            } else if (command.equals("demo") && a.equals("--trainers")) {
                trainers = positive(value(rest, ++i, a), a);
            } else if (command.equals("demo") && a.equals("--ps")) {
                psNodes = positive(value(rest, ++i, a), a);
            } else if (command.equals("demo") && a.equals("--timeout")) {
                timeoutSeconds = positive(value(rest, ++i, a), a);
            } else if (a.equals("--config")) {
                configFile = Path.of(value(rest, ++i, a));
            } else if (a.equals("--set")) {
                String kv = value(rest, ++i, a);
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new UsageError("--set needs KEY=VALUE, got '" + kv + "'");
                }
                overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            } else if (a.equals("--resume")) {
                // absolute: the demo's child JVMs read it too
                overrides.put("tributary.cluster.resume-from", Path.of(value(rest, ++i, a)).toAbsolutePath().toString());
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
            case "demo":
                try {
                    var result = new io.tributary.demo.DemoCommand(new io.tributary.demo.DemoCommand.Options(trainers,
                            psNodes, configFile, overrides, java.nio.file.Path.of("runs"),
                            java.time.Duration.ofSeconds(timeoutSeconds)), out).run();
                    return result.accuracy() > 0 ? 0 : 1;
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("demo: " + e.getMessage(), e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("demo interrupted", e);
                }
            default:
                throw new UsageError("unknown command '" + command + "'");
        }
    }

    private static int positive(String v, String flag) {
        try {
            int n = Integer.parseInt(v);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageError(flag + " needs a whole number >= 1, got '" + v + "'");
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
