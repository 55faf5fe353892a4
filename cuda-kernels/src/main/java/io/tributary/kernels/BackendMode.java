package io.tributary.kernels;

import java.util.Locale;

/** How a node picks its backend at start-up. */
public enum BackendMode {
    /** The GPU when one is usable, else the CPU (saying why). */
    AUTO,
    /** Always the CPU. */
    CPU,
    /** Always the GPU; fails with a clear message when none is usable. */
    CUDA;

    /** Parses {@code auto}, {@code cpu} or {@code cuda}, naming the valid values on a bad one. */
    public static BackendMode parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown backend '" + value + "': use auto, cpu or cuda", e);
        }
    }
}
