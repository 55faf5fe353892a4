package io.tributary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tributary plot}: a run folder's scalars become a PNG with its fault windows shaded where events.log puts
 * them. The folder is written here by hand (20 s of steps, two evaluations, one fault from 5 s to 8 s).
 */
class PlotCommandTest {

    @TempDir
    Path run;

    private int plot(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> a = new ArrayList<>(List.of("plot"));
        a.addAll(List.of(args));
        int status = Main.run(a.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        lastOut = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        return status;
    }

    private String lastOut = "";

    @Test
    void aChaosRunFolderBecomesAPngWithItsFaultShaded() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int s = 1; s <= 40; s++) {
            double t = s * 0.5;
            lines.add(String.format(Locale.ROOT, "{\"step\":%d,\"t\":%.3f,\"loss\":%.4f,\"samples_per_s\":%.1f,"
                    + "\"trainers\":3,\"trainer_bytes_sent\":%d}", s, t, 2.0 / s, 1000.0 + s, (long) (t * 1_000_000)));
            if (s == 20 || s == 40) {
                lines.add(String.format(Locale.ROOT, "{\"step\":%d,\"t\":%.3f,\"test_accuracy\":%.2f}", s, t,
                        s == 20 ? 0.9 : 0.95));
            }
        }
        Files.write(run.resolve("scalars.jsonl"), lines);
        Files.write(run.resolve("events.log"), List.of("    0.00 run started: 40 steps, sync",
                "    5.00 fault-start kill trainer-2", "    8.00 fault-end kill trainer-2"));

        assertEquals(0, plot(run.toString()), lastOut);
        assertTrue(lastOut.contains("40 steps, 2 evaluations, 1 fault windows"), lastOut);
        BufferedImage png = ImageIO.read(run.resolve("plot.png").toFile());
        assertEquals(RunPlot.WIDTH, png.getWidth());
        assertEquals(RunPlot.HEIGHT, png.getHeight());
        // the x axis runs 0..20 s: 6.5 s is inside the fault, 16 s outside it; sample the lower half of the
        // middle panel, clear of lines and legend
        int pw = RunPlot.WIDTH - RunPlot.LEFT - RunPlot.RIGHT;
        int ph = (RunPlot.HEIGHT - RunPlot.TOP - RunPlot.BOTTOM - 2 * RunPlot.GAP) / 3;
        int y = RunPlot.TOP + ph + RunPlot.GAP + ph * 3 / 4;
        int inside = png.getRGB(RunPlot.LEFT + (int) (6.5 / 20 * pw), y) & 0xffffff;
        int outside = png.getRGB(RunPlot.LEFT + (int) (16.0 / 20 * pw), y) & 0xffffff; // between grid lines
        assertEquals(0xffffff, outside, "white outside the fault");
        assertNotEquals(0xffffff, inside, "shaded inside the fault");
        assertTrue(((inside >> 16) & 0xff) > ((inside >> 8) & 0xff), "the shade is red: " + Integer.toHexString(inside));
    }

    @Test
    void aFolderWithoutScalarsOrWithABadLineIsOneLineAndStatusTwo() throws Exception {
        assertEquals(2, plot(run.toString()));
        assertTrue(lastOut.contains("no scalars.jsonl in " + run), lastOut);
        Files.write(run.resolve("scalars.jsonl"), List.of("{\"step\":1,\"t\":0.5,\"loss\":1.0}", "not json"));
        assertEquals(2, plot(run.toString()));
        assertTrue(lastOut.contains("line 2 is not a JSON object"), lastOut);
    }
}
