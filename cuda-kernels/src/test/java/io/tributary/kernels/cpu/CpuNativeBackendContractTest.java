package io.tributary.kernels.cpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendContractTest;
import org.junit.jupiter.api.BeforeAll;

/** The contract on the native-BLAS path; skipped, saying why, where no native BLAS is installed. */
class CpuNativeBackendContractTest extends BackendContractTest {

    @BeforeAll
    static void requireNativeBlas() {
        assumeTrue(NativeBlas.instance() != null, () -> "skipped: " + NativeBlas.problem());
    }

    @Override
    protected Backend openBackend() {
        return CpuBackend.nativePath();
    }
}
