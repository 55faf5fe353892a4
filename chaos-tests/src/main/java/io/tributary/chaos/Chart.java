package io.tributary.chaos;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** The run on one PNG: throughput (line) and test accuracy (dots) over time, fault windows shaded. */
final class Chart {

    record Point(double seconds, double value) {
    }

    record Window(double from, double to, String label) {
    }

    private Chart() {
    }

    static void write(Path file, String title, List<Point> throughput, List<Point> accuracy, List<Window> faults)
            throws IOException {
        int w = 1000;
        int h = 520;
        int left = 70;
        int right = 70;
        int top = 40;
        int bottom = 50;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double tMax = 1;
        double sMax = 1;
        for (Point p : throughput) {
            tMax = Math.max(tMax, p.seconds());
            sMax = Math.max(sMax, p.value());
        }
        for (Point p : accuracy) {
            tMax = Math.max(tMax, p.seconds());
        }
        for (Window f : faults) {
            tMax = Math.max(tMax, f.to());
        }
        int pw = w - left - right;
        int ph = h - top - bottom;
        final double tm = tMax;
        java.util.function.DoubleUnaryOperator x = t -> left + t / tm * pw;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (Window f : faults) {
            int x0 = (int) x.applyAsDouble(f.from());
            int x1 = Math.max(x0 + 3, (int) x.applyAsDouble(f.to()));
            g.setColor(new Color(255, 120, 120, 90));
            g.fillRect(x0, top, x1 - x0, ph);
            g.setColor(new Color(170, 30, 30));
            g.drawString(f.label(), x0 + 2, top + 14 + 14 * (faults.indexOf(f) % 4));
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        g.drawString(title, left, 22);
        g.drawString("seconds", left + pw / 2 - 20, h - 12);
        for (int i = 0; i <= 5; i++) {
            int xx = left + pw * i / 5;
            g.drawString(String.format(Locale.ROOT, "%.0f", tMax * i / 5), xx - 8, top + ph + 16);
            int yy = top + ph - ph * i / 5;
            g.setColor(new Color(30, 90, 200));
            g.drawString(String.format(Locale.ROOT, "%,.0f", sMax * i / 5), 5, yy + 4);
            g.setColor(new Color(20, 140, 60));
            g.drawString(String.format(Locale.ROOT, "%.0f%%", 100.0 * i / 5), w - right + 6, yy + 4);
            g.setColor(Color.BLACK);
        }
        g.setColor(new Color(30, 90, 200));
        g.drawString("samples/s", 5, top - 6);
        g.setStroke(new BasicStroke(2f));
        for (int i = 1; i < throughput.size(); i++) {
            Point a = throughput.get(i - 1);
            Point b = throughput.get(i);
            g.drawLine((int) x.applyAsDouble(a.seconds()), (int) (top + ph - a.value() / sMax * ph),
                    (int) x.applyAsDouble(b.seconds()), (int) (top + ph - b.value() / sMax * ph));
        }
        g.setColor(new Color(20, 140, 60));
        g.drawString("test accuracy", w - right - 20, top - 6);
        for (Point p : accuracy) {
            int px = (int) x.applyAsDouble(p.seconds());
            int py = (int) (top + ph - p.value() * ph);
            g.fillOval(px - 5, py - 5, 10, 10);
            g.drawString(String.format(Locale.ROOT, "%.1f%%", p.value() * 100), px - 18, py - 8);
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }
}
