package io.tributary.kernels.cpu;

import io.tributary.kernels.Backend;
import io.tributary.kernels.TransformerContractTest;

/**
 * The transformer operations on the CPU backend (they are plain loops, the same on the Java and the
 * native-BLAS path); CudaTransformerContractTest runs the same contract where a GPU is usable.
 */
class CpuTransformerContractTest extends TransformerContractTest {

    @Override
    protected Backend openBackend() {
        return CpuBackend.javaPath();
    }
}
