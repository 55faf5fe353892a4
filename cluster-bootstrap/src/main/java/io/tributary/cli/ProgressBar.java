package io.tributary.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar for long work. On a terminal it redraws in place (at most ~10 times a
 * second); otherwise (a pipe, a log file, CI) it prints a plain line every {@code plainEvery}
 * fraction of the work so logs stay readable.
 */
public final class ProgressBar {

    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean interactive;
    private long lastDraw;
    private double lastPlainFraction = -1;

    public ProgressBar(PrintStream out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    /** A bar on {@code out}: interactive when that is the console's stdout and TERM is not dumb. */
    public static ProgressBar on(PrintStream out) {
        boolean tty = out == System.out && System.console() != null && !"dumb".equals(System.getenv("TERM"));
        return new ProgressBar(out, tty);
    }

    /** Shows {@code fraction} (0..1) of the current unit with a label before and a status after. */
    public void update(String label, double fraction, String status) {
        long now = System.nanoTime();
        if (interactive) {
            if (fraction < 1 && now - lastDraw < 100_000_000L) {
                return;
            }
            lastDraw = now;
            out.print("\r" + render(label, fraction, status) + "\u001b[K");
            out.flush();
        } else if (fraction - lastPlainFraction >= 0.25 || fraction >= 1 && lastPlainFraction < 1) {
            lastPlainFraction = fraction;
            out.println(render(label, fraction, status));
        }
    }

    /** Ends the current bar's line (the next update starts a new one). */
    public void finishLine() {
        if (interactive) {
            out.println();
        }
        lastPlainFraction = -1;
        lastDraw = 0;
    }

    static String render(String label, double fraction, String status) {
        double f = Math.max(0, Math.min(1, fraction));
        int filled = (int) Math.round(f * WIDTH);
        StringBuilder sb = new StringBuilder(label).append(" [");
        for (int i = 0; i < WIDTH; i++) {
            sb.append(i < filled ? '#' : '.');
        }
        return sb.append("] ").append(String.format(Locale.ROOT, "%3.0f%%", f * 100)).append(' ').append(status).toString();
    }
}
