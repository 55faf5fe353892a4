package io.tributary.kernels.cuda;

import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDestroy;
import static jcuda.jcublas.JCublas2.cublasGetVersion;
import static jcuda.jcublas.JCublas2.cublasSaxpy;
import static jcuda.jcublas.JCublas2.cublasSdot;
import static jcuda.jcublas.JCublas2.cublasSetMathMode;
import static jcuda.jcublas.JCublas2.cublasSetPointerMode;
import static jcuda.jcublas.JCublas2.cublasSgemm;
import static jcuda.jcublas.JCublas2.cublasSscal;

import jcuda.Pointer;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasPointerMode;

/**
 * The cuBLAS calls of the CUDA backend on one handle, in host pointer mode with full FP32 math.
 * The host scalars the calls read and write are wrapped once, so a call allocates nothing. Shapes
 * and tensors are checked by the caller; every length here is {@code > 0}.
 */
final class Cublas implements AutoCloseable {

    private final cublasHandle handle = new cublasHandle();
    private boolean created;

    private final float[] alpha = new float[1];
    private final float[] beta = new float[1];
    private final float[] result = new float[1];
    private final Pointer alphaPointer = Pointer.to(alpha);
    private final Pointer betaPointer = Pointer.to(beta);
    private final Pointer resultPointer = Pointer.to(result);

    /** Creates the handle in the current context. */
    Cublas() {
        cublasCreate(handle);
        created = true;
        try {
            cublasSetPointerMode(handle, cublasPointerMode.CUBLAS_POINTER_MODE_HOST);
            // Full FP32 SGEMM: TF32 tensor-core math would miss the contract's error bounds.
            cublasSetMathMode(handle, cublasMath.CUBLAS_DEFAULT_MATH);
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** The cuBLAS version as {@code major.minor.patch}. */
    String version() {
        int[] version = new int[1];
        cublasGetVersion(handle, version);
        return version[0] / 10000 + "." + version[0] % 10000 / 100 + "." + version[0] % 100;
    }

    /**
     * Row-major {@code C = alpha·op(A)·op(B) + beta·C} with {@code A} m×k, {@code B} k×n (before op),
     * all of {@code m, n, k > 0}. cuBLAS does not read C when beta == 0, so NaN there cannot leak.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, DevicePointer a, DevicePointer b,
              float beta, DevicePointer c) {
        this.alpha[0] = alpha;
        this.beta[0] = beta;
        // Row-major C = op(A)·op(B) is column-major C^T = op(B)^T·op(A)^T: swap the operands.
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        cublasSgemm(handle, op(transB), op(transA), n, m, k, alphaPointer, b, ldb, a, lda, betaPointer, c, n);
    }

    private static int op(boolean transpose) {
        return transpose ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    }

    /** {@code y += alpha·x} over {@code n} floats. */
    void axpy(int n, float alpha, DevicePointer x, DevicePointer y) {
        this.alpha[0] = alpha;
        cublasSaxpy(handle, n, alphaPointer, x, 1, y, 1);
    }

    /** {@code x *= alpha} over {@code n} floats. */
    void scale(int n, float alpha, DevicePointer x) {
        this.alpha[0] = alpha;
        cublasSscal(handle, n, alphaPointer, x, 1);
    }

    /** The dot product of {@code n} floats; waits for the result (host pointer mode). */
    float dot(int n, DevicePointer x, DevicePointer y) {
        cublasSdot(handle, n, x, 1, y, 1, resultPointer);
        return result[0];
    }

    @Override
    public void close() {
        if (created) {
            created = false;
            cublasDestroy(handle);
        }
    }
}
