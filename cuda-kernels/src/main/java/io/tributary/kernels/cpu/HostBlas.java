package io.tributary.kernels.cpu;

import dev.ludovic.netlib.blas.BLAS;
import java.util.Arrays;

/**
 * The BLAS-backed operations of the CPU backend, GEMM and dot: through the machine's native BLAS
 * (OpenBLAS) when one is given, else the blocked Vector API GEMM ({@link VectorGemm}) and the
 * Vector API dot. Shapes are checked by the caller. Not thread-safe (the Java GEMM keeps scratch).
 */
final class HostBlas {

    /** The native BLAS, or null for the plain-Java path. */
    private final BLAS blas;
    private final VectorGemm javaGemm = new VectorGemm();

    HostBlas(BLAS blas) {
        this.blas = blas;
    }

    boolean isNative() {
        return blas != null;
    }

    /** The native BLAS implementation's class name; only when {@link #isNative()}. */
    String nativeName() {
        return blas.getClass().getSimpleName();
    }

    /** Row-major {@code C = alpha·op(A)·op(B) + beta·C} with {@code A} m×k and {@code B} k×n (before op); m, n > 0. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CpuTensor a, CpuTensor b, float beta,
              CpuTensor c) {
        if (blas == null) {
            javaGemm.gemm(transA, transB, m, n, k, alpha, a.data, a.offset, b.data, b.offset, beta, c.data, c.offset);
            return;
        }
        if (beta == 0f) {
            // Fortran BLAS skips reading C when beta == 0, but be explicit: NaN must not survive.
            Arrays.fill(c.data, c.offset, c.offset + m * n, 0f);
        }
        // Row-major C = op(A)·op(B) is column-major C^T = op(B)^T·op(A)^T: swap the operands.
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        blas.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha, b.data, b.offset, ldb, a.data, a.offset, lda,
                beta, c.data, c.offset, n);
    }

    /** The dot product of two tensors of one length. */
    float dot(CpuTensor x, CpuTensor y) {
        if (blas != null) {
            return blas.sdot(x.length(), x.data, x.offset, 1, y.data, y.offset, 1);
        }
        return VectorLoops.dot(x, y);
    }
}
