package io.tributary.kernels.cpu;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Finds the machine's native BLAS through netlib-java's JNI binding, once. The binding dlopens
 * {@code libblas.so.3} (Debian's OpenBLAS registers itself under that name); the property
 * {@code dev.ludovic.netlib.blas.nativeLib} names another library.
 */
public final class NativeBlas {

    private static final BLAS INSTANCE;
    private static final String PROBLEM;

    static {
        // The binding logs its own multi-line warning when the library is missing; we report the
        // reason ourselves in one line, so quieten it while probing.
        Logger builderLog = Logger.getLogger("dev.ludovic.netlib.blas.InstanceBuilder");
        Level before = builderLog.getLevel();
        builderLog.setLevel(Level.OFF);
        BLAS found = null;
        String problem = null;
        try {
            found = NativeBLAS.getInstance();
        } catch (RuntimeException | LinkageError e) {
            problem = "no native BLAS (libblas.so.3 could not be loaded: " + rootMessage(e)
                    + "); install OpenBLAS with scripts/setup.sh (Debian package libopenblas0-pthread)";
        } finally {
            builderLog.setLevel(before);
        }
        INSTANCE = found;
        PROBLEM = problem;
    }

    private NativeBlas() {
    }

    /** The native BLAS, or null when none could be loaded (see {@link #problem()}). */
    public static BLAS instance() {
        return INSTANCE;
    }

    /** Null when a native BLAS is loaded, else a one-line reason and what to do. */
    public static String problem() {
        return PROBLEM;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String msg = t.getMessage();
        return (msg == null ? t.getClass().getSimpleName() : msg).replace('\n', ' ');
    }
}
