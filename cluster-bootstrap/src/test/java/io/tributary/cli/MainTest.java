package io.tributary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end, in process: real config, real data readers, the CPU backend. */
class MainTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
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
}
