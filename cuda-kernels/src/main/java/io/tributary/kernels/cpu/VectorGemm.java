package io.tributary.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocked single-precision GEMM on the Vector API, for machines without a native BLAS
 * (the pure-Java BLAS falls to a few GFLOP/s at large sizes). Row-major:
 * {@code C[m×n] = alpha·op(A)·op(B) + beta·C}. A 4-row micro-kernel keeps 4×2 vector
 * accumulators in registers while it streams a packed panel of B, blocked so the panel stays in
 * L2. Scratch space is kept between calls; the steady state allocates nothing.
 */
final class VectorGemm {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    private static final int KC = 256;
    private static final int NC = 512;
    private static final int MR = 4;

    /** Packed panel of op(B): KC rows of up to NC columns, rounded up to whole vectors. */
    private float[] panel = new float[0];

    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              float[] a, int ao, float[] b, int bo, float beta, float[] c, int co) {
        scaleC(m, n, beta, c, co);
        if (k == 0 || alpha == 0f) {
            return;
        }
        int lda = transA ? m : k;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int ncPadded = (nc + 2 * V - 1) / (2 * V) * (2 * V);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(transB, n, k, b, bo, pc, kc, jc, nc, ncPadded, alpha);
                int i = 0;
                for (; i + MR <= m; i += MR) {
                    kernel4(transA, lda, a, ao, i, pc, kc, ncPadded, nc, c, co + i * n + jc, n);
                }
                for (; i < m; i++) {
                    kernel1(transA, lda, a, ao, i, pc, kc, ncPadded, nc, c, co + i * n + jc);
                }
            }
        }
    }

    private static void scaleC(int m, int n, float beta, float[] c, int co) {
        int len = m * n;
        if (beta == 0f) {
            java.util.Arrays.fill(c, co, co + len, 0f);
        } else if (beta != 1f) {
            int i = 0;
            for (; i < S.loopBound(len); i += V) {
                FloatVector.fromArray(S, c, co + i).mul(beta).intoArray(c, co + i);
            }
            for (; i < len; i++) {
                c[co + i] *= beta;
            }
        }
    }

    /** Copies alpha·op(B)[pc..pc+kc, jc..jc+nc] into the panel, zero-padded to ncPadded columns. */
    private void packB(boolean transB, int n, int k, float[] b, int bo, int pc, int kc, int jc, int nc,
                       int ncPadded, float alpha) {
        int need = KC * ncPadded;
        if (panel.length < need) {
            panel = new float[Math.max(need, KC * (NC + 2 * V))];
        }
        float[] p = panel;
        for (int kk = 0; kk < kc; kk++) {
            int row = kk * ncPadded;
            if (transB) {
                // op(B)[p][j] = B[j][p], B stored n×k
                for (int j = 0; j < nc; j++) {
                    p[row + j] = alpha * b[bo + (jc + j) * k + pc + kk];
                }
            } else {
                int src = bo + (pc + kk) * n + jc;
                for (int j = 0; j < nc; j++) {
                    p[row + j] = alpha * b[src + j];
                }
            }
            for (int j = nc; j < ncPadded; j++) {
                p[row + j] = 0f;
            }
        }
    }

    private static float aAt(boolean transA, int lda, float[] a, int ao, int i, int p) {
        return transA ? a[ao + p * lda + i] : a[ao + i * lda + p];
    }

    private void kernel4(boolean transA, int lda, float[] a, int ao, int i, int pc, int kc, int ncPadded,
                         int nc, float[] c, int cRow0, int ldc) {
        float[] p = panel;
        for (int j = 0; j < ncPadded; j += 2 * V) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            for (int kk = 0; kk < kc; kk++) {
                int row = kk * ncPadded + j;
                FloatVector b0 = FloatVector.fromArray(S, p, row);
                FloatVector b1 = FloatVector.fromArray(S, p, row + V);
                int pp = pc + kk;
                FloatVector a0 = FloatVector.broadcast(S, aAt(transA, lda, a, ao, i, pp));
                FloatVector a1 = FloatVector.broadcast(S, aAt(transA, lda, a, ao, i + 1, pp));
                FloatVector a2 = FloatVector.broadcast(S, aAt(transA, lda, a, ao, i + 2, pp));
                FloatVector a3 = FloatVector.broadcast(S, aAt(transA, lda, a, ao, i + 3, pp));
                c00 = a0.fma(b0, c00);
                c01 = a0.fma(b1, c01);
                c10 = a1.fma(b0, c10);
                c11 = a1.fma(b1, c11);
                c20 = a2.fma(b0, c20);
                c21 = a2.fma(b1, c21);
                c30 = a3.fma(b0, c30);
                c31 = a3.fma(b1, c31);
            }
            store(c00, c01, c, cRow0, j, nc);
            store(c10, c11, c, cRow0 + ldc, j, nc);
            store(c20, c21, c, cRow0 + 2 * ldc, j, nc);
            store(c30, c31, c, cRow0 + 3 * ldc, j, nc);
        }
    }

    private void kernel1(boolean transA, int lda, float[] a, int ao, int i, int pc, int kc, int ncPadded,
                         int nc, float[] c, int cRow) {
        float[] p = panel;
        for (int j = 0; j < ncPadded; j += 2 * V) {
            FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
            for (int kk = 0; kk < kc; kk++) {
                int row = kk * ncPadded + j;
                FloatVector av = FloatVector.broadcast(S, aAt(transA, lda, a, ao, i, pc + kk));
                c0 = av.fma(FloatVector.fromArray(S, p, row), c0);
                c1 = av.fma(FloatVector.fromArray(S, p, row + V), c1);
            }
            store(c0, c1, c, cRow, j, nc);
        }
    }

    /** Adds two accumulator vectors into C columns j..j+2V, only where j < nc. */
    private static void store(FloatVector v0, FloatVector v1, float[] c, int cRow, int j, int nc) {
        if (j + 2 * V <= nc) {
            FloatVector.fromArray(S, c, cRow + j).add(v0).intoArray(c, cRow + j);
            FloatVector.fromArray(S, c, cRow + j + V).add(v1).intoArray(c, cRow + j + V);
            return;
        }
        for (int t = 0; t < V && j + t < nc; t++) {
            c[cRow + j + t] += v0.lane(t);
        }
        for (int t = 0; t < V && j + V + t < nc; t++) {
            c[cRow + j + V + t] += v1.lane(t);
        }
    }
}
