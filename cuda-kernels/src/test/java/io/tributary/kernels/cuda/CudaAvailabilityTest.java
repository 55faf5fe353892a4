package io.tributary.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tributary.kernels.BackendUnavailableException;
import org.junit.jupiter.api.Test;

/** How opening the CUDA backend fails where it cannot work: one line that says why and what to do. */
class CudaAvailabilityTest {

    @Test
    void openWithoutAUsableGpuThrowsOneLineReason() {
        String probed = CudaBackend.probe();
        assumeTrue(probed != null, "a usable GPU is present; this test is for machines without one");
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> CudaBackend.open(0));
        assertOneLine(e.getMessage());
        assertTrue(e.getMessage().contains("install") || e.getMessage().contains("update")
                || e.getMessage().contains("use --backend cpu"), "no fix named: " + e.getMessage());
        // the first, informative reason is remembered, not replaced by a later NoClassDefFoundError
        assertEquals(probed, CudaBackend.probe());
        assertEquals(e.getMessage(), assertThrows(BackendUnavailableException.class, () -> CudaBackend.open(0)).getMessage());
    }

    @Test
    void missingDriverLibraryIsNamedWithTheFix() {
        String reason = CudaNatives.driverLoadReason(jcudaStyleError("JCudaDriver-12.6.0-linux-x86_64", "libcuda.so.1"));
        assertEquals("no CUDA driver (libcuda.so.1 not found); install the NVIDIA driver or use --backend cpu", reason);
    }

    @Test
    void missingCublasIsNamedWithTheCudaVersionItNeeds() {
        String reason = CudaNatives.cublasLoadReason(jcudaStyleError("JCublas2-12.6.0-linux-x86_64", "libcublas.so.12"));
        assertOneLine(reason);
        assertTrue(reason.startsWith("libcublas.so.12 not found: JCublas 12.6 needs the CUDA 12 cuBLAS library"), reason);
    }

    @Test
    void unsupportedPtxNamesTheDriverGeneration() {
        String reason = CudaNatives.initFailureReason(new jcuda.CudaException("CUDA_ERROR_UNSUPPORTED_PTX_VERSION"),
                "cuModuleLoadData", 0);
        assertOneLine(reason);
        assertTrue(reason.contains("r580"), reason);
    }

    @Test
    void oneLineMessagesStayOneLine() {
        assertEquals("a b c", new BackendUnavailableException(" a\nb\r\n  c\n").getMessage());
    }

    /** The shape of the error JCuda's LibUtils throws: a header and nested stack traces in one message. */
    private static UnsatisfiedLinkError jcudaStyleError(String library, String missing) {
        return new UnsatisfiedLinkError("Error while loading native library \"" + library + "\"\n"
                + "Operating system name: Linux\n---(start of nested stack traces)---\n"
                + "java.lang.UnsatisfiedLinkError: no " + library + " in java.library.path: /usr/lib\n"
                + "\tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2434)\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/lib" + library + ".so: " + missing
                + ": cannot open shared object file: No such file or directory\n"
                + "---(end of nested stack traces)---\n");
    }

    private static void assertOneLine(String message) {
        assertFalse(message == null || message.isBlank(), "empty message");
        assertFalse(message.contains("\n") || message.contains("\r"), "message spans lines: " + message);
        assertTrue(message.length() < 300, "message too long for one line: " + message);
    }
}
