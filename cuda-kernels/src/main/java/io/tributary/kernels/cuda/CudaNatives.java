package io.tributary.kernels.cuda;

import io.tributary.kernels.BackendUnavailableException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.CudaException;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the JCuda driver and JCublas2 bindings once per JVM and turns every way that can fail into
 * a one-line reason that says what to install. The outcome is remembered: after a failed static
 * initialiser the JVM only reports an unhelpful {@code NoClassDefFoundError}, so the first,
 * informative failure is the one every later caller sees.
 */
final class CudaNatives {

    /** The CUDA major version the JCuda bindings in the pom were built against. */
    static final String JCUDA_CUDA_VERSION = "12.6";

    private static final Logger LOG = LoggerFactory.getLogger(CudaNatives.class);
    private static final String CPU_HINT = "or use --backend cpu";
    private static final Pattern MISSING_LIBRARY =
            Pattern.compile("([A-Za-z0-9_.+-]+\\.so(?:\\.[0-9]+)*): cannot open shared object file");
    private static final Pattern UNDEFINED_SYMBOL = Pattern.compile("undefined symbol: (\\S+)");

    private static final Object LOCK = new Object();
    private static boolean attempted;
    private static BackendUnavailableException failure;

    private CudaNatives() {
    }

    /** Loads both bindings and enables their exceptions; throws the remembered reason if they cannot load. */
    static void load() {
        synchronized (LOCK) {
            if (!attempted) {
                attempted = true;
                failure = tryLoad();
                if (failure != null) {
                    // once, with JCuda's own report (nested traces of every load attempt) for debugging
                    LOG.debug("JCuda natives unavailable: {}", failure.getMessage(), failure.getCause());
                }
            }
            if (failure != null) {
                throw new BackendUnavailableException(failure.getMessage(), failure.getCause());
            }
        }
    }

    private static BackendUnavailableException tryLoad() {
        try {
            JCudaDriver.setExceptionsEnabled(true);
        } catch (LinkageError e) {
            return new BackendUnavailableException(driverLoadReason(e), e);
        }
        try {
            JCublas2.setExceptionsEnabled(true);
        } catch (LinkageError e) {
            return new BackendUnavailableException(cublasLoadReason(e), e);
        }
        return null;
    }

    static String driverLoadReason(LinkageError e) {
        String message = String.valueOf(e.getMessage());
        if (e instanceof NoClassDefFoundError) {
            return "JCuda classes are missing from the class path (" + message.replace('/', '.')
                    + "); ship org.jcuda:jcuda " + JCUDA_CUDA_VERSION + ".0 with its natives, " + CPU_HINT;
        }
        String missing = firstMatch(MISSING_LIBRARY, message);
        if ("libcuda.so.1".equals(missing)) {
            return "no CUDA driver (libcuda.so.1 not found); install the NVIDIA driver " + CPU_HINT;
        }
        if (missing != null) {
            return "JCuda's driver bindings cannot load: " + missing + " not found; install it " + CPU_HINT;
        }
        String symbol = firstMatch(UNDEFINED_SYMBOL, message);
        if (symbol != null) {
            return "the NVIDIA driver is too old for JCuda " + JCUDA_CUDA_VERSION + " (libcuda lacks " + symbol
                    + "); install a driver for CUDA " + JCUDA_CUDA_VERSION + " or newer " + CPU_HINT;
        }
        return "JCuda " + JCUDA_CUDA_VERSION + " has no native library for " + platform() + " ("
                + firstLine(message) + "); run on linux-x86_64 with the jcuda-natives jar " + CPU_HINT;
    }

    static String cublasLoadReason(LinkageError e) {
        String message = String.valueOf(e.getMessage());
        if (e instanceof NoClassDefFoundError) {
            return "JCublas classes are missing from the class path (" + message.replace('/', '.')
                    + "); ship org.jcuda:jcublas " + JCUDA_CUDA_VERSION + ".0 with its natives, " + CPU_HINT;
        }
        String missing = firstMatch(MISSING_LIBRARY, message);
        if (missing != null && missing.startsWith("libcublas")) {
            return missing + " not found: JCublas " + JCUDA_CUDA_VERSION + " needs the CUDA 12 cuBLAS library "
                    + "on the library path (install cuBLAS for CUDA 12 or add its lib64 to LD_LIBRARY_PATH) "
                    + CPU_HINT;
        }
        if (missing != null) {
            return "JCublas2 cannot load: " + missing + " not found (a CUDA 12 runtime library); install the CUDA 12 "
                    + "runtime libraries or add them to LD_LIBRARY_PATH " + CPU_HINT;
        }
        return "JCublas2 " + JCUDA_CUDA_VERSION + " native library cannot load on " + platform() + " ("
                + firstLine(message) + ") " + CPU_HINT;
    }

    /**
     * What opening device {@code ordinal} failed with at {@code stage}: a driver or cuBLAS error as a
     * {@link BackendUnavailableException} with its reason (anything else as it is), after
     * {@code cleanup} released what was opened (a failure there is added as suppressed).
     */
    static RuntimeException initFailure(RuntimeException e, String stage, int ordinal, Runnable cleanup) {
        RuntimeException failure = e instanceof CudaException ce
                ? new BackendUnavailableException(initFailureReason(ce, stage, ordinal), ce)
                : e;
        try {
            cleanup.run();
        } catch (RuntimeException c) {
            failure.addSuppressed(c);
        }
        return failure;
    }

    /** A reason for a driver or cuBLAS error raised while opening device {@code ordinal} at {@code stage}. */
    static String initFailureReason(CudaException e, String stage, int ordinal) {
        String code = String.valueOf(e.getMessage()).trim();
        if (code.equals(CUresult.stringFor(CUresult.CUDA_ERROR_NO_DEVICE))) {
            return "no CUDA device found (" + stage + ": " + code + "); check nvidia-smi and CUDA_VISIBLE_DEVICES "
                    + CPU_HINT;
        }
        if (code.equals(CUresult.stringFor(CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH))
                || code.equals(CUresult.stringFor(CUresult.CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE))) {
            return "the NVIDIA kernel driver and libcuda.so.1 do not match (" + stage + ": " + code
                    + "); reinstall the driver or reboot after an upgrade " + CPU_HINT;
        }
        if (code.equals(CUresult.stringFor(CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION))) {
            return "the NVIDIA driver cannot compile the bundled PTX (ISA " + PtxKernels.ptxIsaVersion()
                    + ", from nvcc 13): update the driver to the CUDA 13 generation (r580 or newer), or rebuild the PTX "
                    + "with cuda-kernels/build-ptx.sh using the nvcc that matches the driver";
        }
        if (code.equals(CUresult.stringFor(CUresult.CUDA_ERROR_NO_BINARY_FOR_GPU))
                || code.equals(CUresult.stringFor(CUresult.CUDA_ERROR_INVALID_PTX))) {
            return "CUDA device " + ordinal + " cannot run the bundled compute_80 PTX (" + stage + ": " + code
                    + "); it needs an Ampere (sm_80) or newer GPU " + CPU_HINT;
        }
        if (code.startsWith("CUBLAS_STATUS")) {
            return "cuBLAS failed on CUDA device " + ordinal + " (" + stage + ": " + code
                    + "); check that the CUDA 12 cuBLAS library matches the driver " + CPU_HINT;
        }
        return "CUDA device " + ordinal + " cannot be used (" + stage + ": " + firstLine(code) + ") " + CPU_HINT;
    }

    private static String firstMatch(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? m.group(1) : null;
    }

    private static String firstLine(String text) {
        String line = text.strip();
        int end = line.indexOf('\n');
        return (end < 0 ? line : line.substring(0, end)).strip();
    }

    private static String platform() {
        return System.getProperty("os.name", "?").toLowerCase(Locale.ROOT) + "-" + System.getProperty("os.arch", "?");
    }
}
