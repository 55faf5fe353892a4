package io.tributary.kernels.cuda;

import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The backend contract on CUDA device 0; skipped, with the reason, where no GPU is usable. */
class CudaBackendContractTest extends BackendContractTest {

    private static final Logger LOG = LoggerFactory.getLogger(CudaBackendContractTest.class);

    /** Held for the whole class so the primary context (and its JIT-compiled module) stays alive between tests. */
    private static CudaBackend keepAlive;

    @BeforeAll
    static void requireUsableGpu() {
        keepAlive = CudaTestDevice.require(LOG, "backend contract");
    }

    @AfterAll
    static void releaseDevice() {
        keepAlive = CudaTestDevice.release(keepAlive);
    }

    @Override
    protected Backend openBackend() {
        return CudaBackend.open(0);
    }
}
