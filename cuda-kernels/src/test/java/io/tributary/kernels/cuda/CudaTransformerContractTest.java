package io.tributary.kernels.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tributary.kernels.Backend;
import io.tributary.kernels.TransformerContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The transformer operations on CUDA device 0; skipped, with the reason, where no GPU is usable. */
class CudaTransformerContractTest extends TransformerContractTest {

    private static final Logger LOG = LoggerFactory.getLogger(CudaTransformerContractTest.class);

    /** Held for the whole class so the primary context (and its JIT-compiled module) stays alive between tests. */
    private static CudaBackend keepAlive;

    @BeforeAll
    static void requireUsableGpu() {
        String reason = CudaBackend.probe();
        if (reason != null) {
            LOG.warn("skipping the CUDA transformer contract: {}", reason);
        }
        assumeTrue(reason == null, () -> "CUDA backend unavailable: " + reason);
        keepAlive = CudaBackend.open(0);
    }

    @AfterAll
    static void releaseDevice() {
        if (keepAlive != null) {
            keepAlive.close();
            keepAlive = null;
        }
    }

    @Override
    protected Backend openBackend() {
        return CudaBackend.open(0);
    }
}
