package io.tributary.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.tributary.coordinator.RunRecorder;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;
import javax.imageio.ImageIO;

/**
 * A run folder's scalars ({@link RunRecorder#SCALARS_FILE}) drawn as one PNG of three panels over the seconds
 * since the run started: the training loss; the test accuracy and samples per second; the data-plane bytes per
 * second the trainers sent. Fault windows of a chaos run ({@code events.log}: {@code fault-start} and
 * {@code fault-end} lines) are shaded in every panel and named in the first.
 */
public final class RunPlot {

    /** One value at a time. */
    record Point(double t, double value) {
    }

    /** A fault from {@code from} to {@code to} seconds. */
    record Window(double from, double to, String label) {
    }

    /** What a run folder holds for the plot. */
    record Series(List<Point> loss, List<Point> accuracy, List<Point> samplesPerSecond, List<Point> bytesPerSecond,
                  List<Window> faults) {
    }

    static final int WIDTH = 1100;
    static final int HEIGHT = 820;
    static final int LEFT = 90;
    static final int RIGHT = 90;
    static final int TOP = 50;
    static final int GAP = 45;
    static final int BOTTOM = 45;
    static final Color FAULT = new Color(255, 120, 120, 80);
    /** The data-plane rate is taken over at least this many seconds. */
    static final double RATE_WINDOW_S = 1.0;
    private static final Color LOSS = new Color(200, 60, 30);
    private static final Color ACCURACY = new Color(20, 140, 60);
    private static final Color THROUGHPUT = new Color(30, 90, 200);
    private static final Color BYTES = new Color(120, 60, 170);

    private RunPlot() {
    }

    /**
     * Draws {@code runDir}'s scalars to {@code runDir/plot.png} (what {@code tributary plot RUN-DIR} does) and
     * returns the PNG; an IllegalArgumentException names what is missing or malformed.
     */
    public static Path drawRun(Path runDir) throws IOException {
        return drawRun(runDir, runDir.resolve("plot.png")).png();
    }

    /** What {@link #drawRun(Path, Path)} drew, and where. */
    record Drawn(Path png, Series series) {
    }

    /** Draws {@code runDir}'s scalars to {@code png}. */
    static Drawn drawRun(Path runDir, Path png) throws IOException {
        Series s = read(runDir);
        Path name = runDir.toAbsolutePath().normalize().getFileName();
        write(s, "Tributary run " + (name == null ? runDir : name), png);
        return new Drawn(png, s);
    }

    /** Reads {@code runDir}'s scalars (and events.log when there is one); fails naming what is missing or wrong. */
    static Series read(Path runDir) throws IOException {
        Path file = runDir.resolve(RunRecorder.SCALARS_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no " + RunRecorder.SCALARS_FILE + " in " + runDir + ": give the folder of"
                    + " a run that recorded one (runs/demo-*, runs/chaos-*, or a coordinator's --run-dir)");
        }
        List<Point> loss = new ArrayList<>();
        List<Point> accuracy = new ArrayList<>();
        List<Point> throughput = new ArrayList<>();
        List<Point> bytes = new ArrayList<>();
        double lastT = Double.NaN;
        long lastBytes = -1;
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            Config c;
            try {
                c = ConfigFactory.parseString(line, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
            } catch (ConfigException e) {
                throw new IllegalArgumentException(file + " line " + n + " is not a JSON object: " + e.getMessage(), e);
            }
            if (!c.hasPath("t")) {
                throw new IllegalArgumentException(file + " line " + n + " has no \"t\" (seconds since the run started)");
            }
            double t = c.getDouble("t");
            if (c.hasPath("test_accuracy")) {
                accuracy.add(new Point(t, c.getDouble("test_accuracy")));
                continue;
            }
            if (c.hasPath("loss")) {
                loss.add(new Point(t, c.getDouble("loss")));
            }
            if (c.hasPath("samples_per_s")) {
                throughput.add(new Point(t, c.getDouble("samples_per_s")));
            }
            if (c.hasPath("trainer_bytes_sent")) {
                long b = c.getLong("trainer_bytes_sent");
                if (lastBytes < 0) {
                    lastBytes = b;
                    lastT = t;
                } else if (t - lastT >= RATE_WINDOW_S) {
                    // a rate over at least a second: reports of one step come close together
                    bytes.add(new Point(t, Math.max(0, b - lastBytes) / (t - lastT)));
                    lastBytes = b;
                    lastT = t;
                }
            }
        }
        return new Series(loss, accuracy, throughput, bytes, faults(runDir.resolve("events.log")));
    }

    /** The windows of {@code events.log} ({@code "  8.16 fault-start join ps-3"} ... {@code fault-end}). */
    static List<Window> faults(Path events) throws IOException {
        List<Window> windows = new ArrayList<>();
        if (!Files.isRegularFile(events)) {
            return windows;
        }
        List<String[]> open = new ArrayList<>();
        for (String line : Files.readAllLines(events, StandardCharsets.UTF_8)) {
            String[] parts = line.trim().split("\\s+", 3);
            if (parts.length < 3) {
                continue;
            }
            if (parts[1].equals("fault-start")) {
                open.add(new String[] {parts[0], parts[2]});
            } else if (parts[1].equals("fault-end")) {
                for (int i = 0; i < open.size(); i++) {
                    if (open.get(i)[1].startsWith(parts[2])) {
                        windows.add(new Window(Double.parseDouble(open.get(i)[0]), Double.parseDouble(parts[0]),
                                parts[2]));
                        open.remove(i);
                        break;
                    }
                }
            }
        }
        for (String[] o : open) {
            windows.add(new Window(Double.parseDouble(o[0]), Double.NaN, o[1])); // to the end of the run
        }
        return windows;
    }

    /** The smallest of 1, 2 and 5 times a power of ten that is at least {@code raw}: a tick step people read. */
    static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= raw - 1e-12) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /** Draws {@code s} to {@code png} under {@code title}. */
    static void write(Series s, String title, Path png) throws IOException {
        double tMax = 1;
        for (List<Point> l : List.of(s.loss(), s.accuracy(), s.samplesPerSecond(), s.bytesPerSecond())) {
            for (Point p : l) {
                tMax = Math.max(tMax, p.t());
            }
        }
        for (Window w : s.faults()) {
            tMax = Math.max(tMax, Double.isNaN(w.to()) ? w.from() : w.to());
        }
        double tStep = niceStep(tMax / 6);
        int ticks = (int) Math.ceil(tMax / tStep - 1e-9);
        tMax = ticks * tStep;
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.setColor(Color.BLACK);
        g.drawString(title, LEFT, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int ph = (HEIGHT - TOP - BOTTOM - 2 * GAP) / 3;
        final double tm = tMax;
        int pw = WIDTH - LEFT - RIGHT;
        DoubleUnaryOperator x = t -> LEFT + t / tm * pw;
        for (int panel = 0; panel < 3; panel++) {
            int top = TOP + panel * (ph + GAP);
            for (Window w : s.faults()) {
                int x0 = (int) x.applyAsDouble(w.from());
                int x1 = Math.max(x0 + 3, (int) x.applyAsDouble(Double.isNaN(w.to()) ? tm : w.to()));
                g.setColor(FAULT);
                g.fillRect(x0, top, x1 - x0, ph);
                if (panel == 0) {
                    g.setColor(new Color(170, 30, 30));
                    g.drawString(w.label(), x0 + 3, top + 14 + 14 * (s.faults().indexOf(w) % 4));
                }
            }
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, top, pw, ph);
            for (int i = 0; i <= ticks; i++) {
                int xx = (int) x.applyAsDouble(i * tStep);
                g.setColor(new Color(225, 225, 225));
                g.drawLine(xx, top + 1, xx, top + ph - 1);
                g.setColor(Color.BLACK);
                String label = tStep >= 1 ? String.format(Locale.ROOT, "%.0f", i * tStep)
                        : String.format(Locale.ROOT, "%.1f", i * tStep);
                g.drawString(label, xx - g.getFontMetrics().stringWidth(label) / 2, top + ph + 15);
            }
        }
        g.drawString("seconds since the run started", LEFT + pw / 2 - 80, HEIGHT - 10);

        int top0 = TOP;
        double lossMax = max(s.loss(), 1e-9) * 1.05;
        axis(g, top0, ph, 0, lossMax, LOSS, true, "%.2f");
        line(g, s.loss(), x, top0, ph, 0, lossMax, LOSS);
        legend(g, top0, List.of("training loss (nats)"), List.of(LOSS));

        int top1 = TOP + ph + GAP;
        double sMax = max(s.samplesPerSecond(), 1) * 1.05;
        double accLo = 1;
        for (Point p : s.accuracy()) {
            accLo = Math.min(accLo, p.value());
        }
        accLo = s.accuracy().isEmpty() ? 0 : Math.max(0, Math.floor((accLo - 0.02) * 20) / 20); // a 5% step below
        final double lo = accLo;
        axis(g, top1, ph, lo * 100, 100, ACCURACY, true, "%.1f%%");
        axis(g, top1, ph, 0, sMax, THROUGHPUT, false, "%,.0f");
        line(g, s.samplesPerSecond(), x, top1, ph, 0, sMax, THROUGHPUT);
        g.setColor(ACCURACY);
        g.setStroke(new BasicStroke(2f));
        Point prev = null;
        for (Point p : s.accuracy()) {
            int px = (int) x.applyAsDouble(p.t());
            int py = (int) (top1 + ph - (p.value() - lo) / (1 - lo) * ph);
            g.fillOval(px - 4, py - 4, 8, 8);
            if (prev != null) {
                g.drawLine((int) x.applyAsDouble(prev.t()), (int) (top1 + ph - (prev.value() - lo) / (1 - lo) * ph), px,
                        py);
            }
            g.drawString(String.format(Locale.ROOT, "%.1f%%", p.value() * 100), px - 16, py - 7);
            prev = p;
        }
        legend(g, top1 + ph - 8 - 18 * 2 - 8, List.of("test accuracy (left)", "samples/s since the start (right)"),
                List.of(ACCURACY, THROUGHPUT));

        int top2 = TOP + 2 * (ph + GAP);
        List<Point> mbps = new ArrayList<>();
        for (Point p : s.bytesPerSecond()) {
            mbps.add(new Point(p.t(), p.value() / 1e6));
        }
        double bMax = max(mbps, 1e-6) * 1.05;
        axis(g, top2, ph, 0, bMax, BYTES, true, "%.1f");
        line(g, mbps, x, top2, ph, 0, bMax, BYTES);
        legend(g, top2, List.of("data plane, MB/s the trainers sent" + (s.faults().isEmpty() ? "" : "; shaded: faults")),
                List.of(BYTES));
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static double max(List<Point> points, double floor) {
        double m = floor;
        for (Point p : points) {
            if (Double.isFinite(p.value())) {
                m = Math.max(m, p.value());
            }
        }
        return m;
    }

    private static void axis(Graphics2D g, int top, int ph, double lo, double hi, Color c, boolean left, String fmt) {
        g.setColor(c);
        for (int i = 0; i <= 4; i++) {
            int yy = top + ph - ph * i / 4;
            String label = String.format(Locale.ROOT, fmt, lo + (hi - lo) * i / 4);
            int w = g.getFontMetrics().stringWidth(label);
            g.drawString(label, left ? LEFT - 6 - w : WIDTH - RIGHT + 6, yy + 4);
        }
    }

    private static void line(Graphics2D g, List<Point> points, DoubleUnaryOperator x, int top, int ph, double lo,
                             double hi, Color c) {
        g.setColor(c);
        g.setStroke(new BasicStroke(2f));
        for (int i = 1; i < points.size(); i++) {
            Point a = points.get(i - 1);
            Point b = points.get(i);
            if (!Double.isFinite(a.value()) || !Double.isFinite(b.value())) {
                continue;
            }
            g.drawLine((int) x.applyAsDouble(a.t()), (int) (top + ph - (a.value() - lo) / (hi - lo) * ph),
                    (int) x.applyAsDouble(b.t()), (int) (top + ph - (b.value() - lo) / (hi - lo) * ph));
        }
        g.setStroke(new BasicStroke(1f));
    }

    private static void legend(Graphics2D g, int top, List<String> names, List<Color> colors) {
        int width = 0;
        for (String n : names) {
            width = Math.max(width, g.getFontMetrics().stringWidth(n));
        }
        int x0 = WIDTH - RIGHT - width - 40;
        int y0 = top + 8;
        g.setColor(new Color(255, 255, 255, 220));
        g.fillRect(x0 - 6, y0 - 2, width + 40, 18 * names.size() + 4);
        for (int i = 0; i < names.size(); i++) {
            g.setColor(colors.get(i));
            g.fillRect(x0, y0 + 18 * i + 5, 20, 4);
            g.setColor(Color.BLACK);
            g.drawString(names.get(i), x0 + 26, y0 + 18 * i + 12);
        }
    }
}
