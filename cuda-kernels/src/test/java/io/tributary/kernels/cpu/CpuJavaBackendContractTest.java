package io.tributary.kernels.cpu;

import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendContractTest;

/** The contract on the plain-Java (Vector API) path, which every machine has. */
class CpuJavaBackendContractTest extends BackendContractTest {

    @Override
    protected Backend openBackend() {
        return CpuBackend.javaPath();
    }
}
