package io.tributary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command line end to end, in process: real config, real data readers, the CPU backend. */
class MainTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void trainLocalOnSyntheticDataLearnsAndPrintsTheResult() {
        int status = run("train", "--local", "--dataset", "synthetic", "--backend", "cpu", "--epochs", "2",
                "--set", "tributary.model.layers=[784,64,10]");
        assertEquals(0, status, stderr());
        String o = stdout();
        assertTrue(o.contains("epoch 2/2 done"), o);
        var m = java.util.regex.Pattern.compile("final test accuracy ([0-9.]+)%").matcher(o);
        assertTrue(m.find(), o);
        assertTrue(Double.parseDouble(m.group(1)) > 90, "synthetic blobs are easy: " + o);
    }

    @Test
    void missingDataDirectoryIsOneLineNamingIt() {
        Path missing = dir.resolve("no-such-dir");
        int status = run("train", "--local", "--backend", "cpu", "--data", missing.toString());
        assertEquals(2, status);
        String e = stderr().trim();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains(missing.toString()) && e.contains("fetch-mnist.sh"), e);
    }

    @Test
    void corruptIdxFileIsOneLineNamingTheFile() throws IOException {
        for (String name : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
            Files.write(dir.resolve(name), new byte[] {0, 0, 8, 3, 0, 0, 0, 5});
        }
        int status = run("train", "--local", "--backend", "cpu", "--data", dir.toString());
        assertEquals(2, status);
        String e = stderr().trim();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains("train-images-idx3-ubyte"), e);
    }

    @Test
    void badConfigKeyIsOneLineNamingTheKey() {
        int status = run("train", "--local", "--set", "tributary.train.bacth-size=3");
        assertEquals(2, status);
        String e = stderr().trim();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains("tributary.train.bacth-size"), e);
    }

    @Test
    void badFlagsSayWhatIsWrong() {
        assertEquals(2, run("train", "--local", "--epochs"));
        assertTrue(stderr().contains("--epochs needs a value"), stderr());
        assertEquals(2, run("train", "--frobnicate"));
        assertTrue(stderr().contains("unknown option '--frobnicate'"), stderr());
        assertEquals(2, run("train", "--local", "--backend", "tpu"));
        assertTrue(stderr().contains("unknown backend 'tpu'"), stderr());
    }

    @Test
    void cudaWithoutAGpuFailsWithOneLine() {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.tributary.kernels.cuda.CudaBackend.probe() != null,
                "skipped: a GPU is usable here");
        int status = run("train", "--local", "--backend", "cuda", "--dataset", "synthetic");
        assertEquals(2, status);
        String e = stderr().trim();
        assertEquals(1, e.lines().count(), e);
    }

    /** Every command and subcommand, as a user types it before {@code --help}. */
    @ParameterizedTest
    @ValueSource(strings = {"", "demo", "train", "node", "history", "history show", "history verify", "credits",
        "certs", "certs init", "certs sign", "certs revoke", "help"})
    void helpOnEveryCommandIsItsUsageOnStdoutWithStatusZero(String command) {
        for (String flag : new String[] {"--help", "-h"}) {
            List<String> args = new ArrayList<>(command.isEmpty() ? List.of() : List.of(command.split(" ")));
            args.add(flag);
            assertEquals(0, run(args.toArray(String[]::new)), args + ": " + stderr());
            String usage = stdout();
            // 'help --help' puts the help command's description first
            assertTrue(usage.contains("Usage: tributary" + (command.isEmpty() ? "" : " " + command) + " ["),
                    args + ": " + usage);
            assertEquals("", stderr(), args.toString());
        }
    }

    @Test
    void helpCommandPrintsTheCommandListAndEachCommandsOptions() {
        assertEquals(0, run("help"));
        String usage = stdout();
        for (String command : new String[] {"demo", "node", "history", "credits", "certs", "train", "help"}) {
            assertTrue(usage.lines().anyMatch(l -> l.trim().startsWith(command + " ")), command + " listed: " + usage);
        }
        assertTrue(usage.contains("--version"), usage);
        assertEquals(0, run("help", "demo"));
        assertTrue(stdout().contains("--trainers=N") && stdout().contains("--epochs=N"), stdout());
        assertEquals(0, run("node", "--help"));
        assertTrue(stdout().contains("--join=HOST:PORT"), stdout());
    }

    @Test
    void versionPrintsTheProjectVersionAndTheJava() {
        String expected = System.getProperty("tributary.expected.version");
        org.junit.jupiter.api.Assumptions.assumeTrue(expected != null,
                "skipped: run by Maven, which passes the project version (tributary.expected.version)");
        for (String flag : new String[] {"--version", "-V"}) {
            assertEquals(0, run(flag), stderr());
            List<String> lines = stdout().lines().toList();
            assertEquals("tributary " + expected, lines.get(0));
            assertTrue(lines.get(1).contains(System.getProperty("java.version")), stdout());
        }
    }

    @Test
    void bareTributaryIsTheUsageOnStderrWithStatusTwo() {
        assertEquals(2, run());
        assertTrue(stderr().startsWith("Usage: tributary"), stderr());
        assertEquals("", stdout());
    }

    @Test
    void flagsBecomeTheSameConfigOverridesWithOrWithoutEquals() {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("tributary.train.epochs", "3");
        assertEquals(expected, trainOverrides("--epochs=3"));
        assertEquals(expected, trainOverrides("--epochs", "3"));

        // every flag maps to its key; a later flag or --set for the same key wins; --resume is made absolute
        expected.clear();
        expected.put("tributary.backend.mode", "cpu");
        expected.put("tributary.train.epochs", "4");
        expected.put("tributary.train.batch-size", "64");
        expected.put("tributary.train.seed", "-1");
        expected.put("tributary.data.dir", "/data/mnist");
        expected.put("tributary.data.set", "synthetic");
        expected.put("tributary.data.train-limit", "2000");
        expected.put("tributary.cluster.shards", "8");
        expected.put("tributary.consistency.policy", "bounded-staleness");
        expected.put("tributary.optimizer.learning-rate", "0.002");
        expected.put("tributary.model.layers", "[784, 64, 10]");
        expected.put("tributary.cluster.resume-from", Path.of("runs/demo-1").toAbsolutePath().toString());
        assertEquals(expected, trainOverrides("--backend", "cpu", "--epochs=3", "--batch-size", "64", "--seed", "-1",
                "--data=/data/mnist", "--dataset", "synthetic", "--train-limit", "2000", "--shards", "8", "--policy",
                "bounded-staleness", "--set", "tributary.optimizer.learning-rate = 0.002",
                "--set=tributary.model.layers=[784, 64, 10]", "--set", "tributary.train.epochs=4", "--resume",
                "runs/demo-1"));
    }

    /** What {@code tributary train ARGS} hands the config loader. */
    private static Map<String, String> trainOverrides(String... args) {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        CommandLine.ParseResult parsed = Main.commandLine(sink, sink).setOverwrittenOptionsAllowed(true)
                .parseArgs(Stream.concat(Stream.of("train"), Stream.of(args)).toArray(String[]::new));
        return ((TrainCommand) parsed.subcommand().commandSpec().userObject()).training.overrides();
    }

    @Test
    void aMistypedOptionGetsASuggestionAndStatusTwo() {
        assertEquals(2, run("demo", "--epoch", "3"));
        List<String> lines = stderr().lines().toList();
        assertEquals("tributary: unknown option '--epoch' for 'demo'", lines.get(0));
        assertTrue(lines.get(1).contains("did you mean --epochs?"), stderr());
        assertEquals("", stdout());
        assertEquals(2, run("train", "--local", "--batchsize", "3"));
        assertTrue(stderr().contains("did you mean --batch-size"), stderr());
    }

    @Test
    void anUnknownCommandIsStatusTwoWithTheCommandsToUse() {
        assertEquals(2, run("frobnicate"));
        assertTrue(stderr().startsWith("tributary: unknown command 'frobnicate'; use demo, node, history, credits,"
                + " plot, certs, train or generate"), stderr());
        assertEquals(2, run("histroy"));
        assertTrue(stderr().contains("did you mean history"), stderr());
        assertEquals(2, run("certs", "sing"));
        assertTrue(stderr().startsWith("tributary: unknown certs command 'sing'; use "), stderr());
        assertTrue(stderr().contains("did you mean sign?"), stderr());
    }

    @Test
    void demoCountsMustBeWholeNumbersOfAtLeastOne() {
        assertEquals(2, run("demo", "--trainers", "0"));
        assertTrue(stderr().startsWith("tributary: --trainers needs a whole number >= 1, got '0'"), stderr());
        assertEquals(2, run("demo", "--timeout=soon"));
        assertTrue(stderr().startsWith("tributary: --timeout needs a whole number >= 1, got 'soon'"), stderr());
        assertEquals(2, run("train", "--local", "--set", "no-equals-sign"));
        assertTrue(stderr().startsWith("tributary: --set needs KEY=VALUE, got 'no-equals-sign'"), stderr());
    }

    @Test
    void trainWithoutLocalSaysToAddIt() {
        assertEquals(2, run("train", "--epochs", "1"));
        assertTrue(stderr().startsWith("tributary: 'train' runs in one process only for now: add --local"), stderr());
        assertFalse(stdout().contains("epoch"), stdout());
    }
}
