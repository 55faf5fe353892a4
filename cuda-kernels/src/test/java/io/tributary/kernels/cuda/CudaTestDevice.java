package io.tributary.kernels.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.slf4j.Logger;

/**
 * CUDA device 0 for a contract test class: skipped, saying why, where no GPU is usable; otherwise a
 * backend held for the whole class, so that the primary context (and its JIT-compiled module) stays
 * alive between tests.
 */
final class CudaTestDevice {

    private CudaTestDevice() {
    }

    /** The backend to hold for the class; skips the class (logging the reason) where no GPU is usable. */
    static CudaBackend require(Logger log, String contract) {
        String reason = CudaBackend.probe();
        if (reason != null) {
            // Surefire shows a class skipped in @BeforeAll as "Tests run: 0" without the reason.
            log.warn("skipping the CUDA {}: {}", contract, reason);
        }
        assumeTrue(reason == null, () -> "CUDA backend unavailable: " + reason);
        return CudaBackend.open(0);
    }

    /** Closes what {@link #require} returned (null where the class was skipped); returns null to clear the holder. */
    static CudaBackend release(CudaBackend held) {
        if (held != null) {
            held.close();
        }
        return null;
    }
}
