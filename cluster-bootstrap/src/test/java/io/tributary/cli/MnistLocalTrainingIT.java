package io.tributary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import io.tributary.trainer.data.MnistIdx;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The foundation's promise: the MLP 784-512-256-10 reaches at least 97.5% MNIST test accuracy in
 * at most 5 epochs on the CPU backend. Slow (about a minute with OpenBLAS on 2 cores).
 */
@Tag("slow")
class MnistLocalTrainingIT {

    @Test
    void mlpReaches975PercentOnMnistWithinFiveEpochsOnTheCpu() {
        assumeTrue(Files.isRegularFile(MnistIdx.defaultDirectory().resolve(MnistIdx.TEST_LABELS)),
                "skipped: MNIST is not in " + MnistIdx.defaultDirectory() + " (run scripts/fetch-mnist.sh)");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"train", "--local", "--backend", "cpu", "--epochs", "5"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String o = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        var m = java.util.regex.Pattern.compile("final test accuracy ([0-9.]+)% after ([0-9]+) epochs").matcher(o);
        assertTrue(m.find(), o);
        assertTrue(Integer.parseInt(m.group(2)) <= 5, o);
        assertTrue(Double.parseDouble(m.group(1)) >= 97.5, "accuracy below 97.5%: " + o);
    }
}
