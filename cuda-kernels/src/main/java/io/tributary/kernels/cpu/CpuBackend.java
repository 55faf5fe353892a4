package io.tributary.kernels.cpu;

import dev.ludovic.netlib.blas.BLAS;
import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendUnavailableException;
import io.tributary.kernels.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU backend: GEMM and BLAS-1 through the machine's native BLAS (OpenBLAS) where it is
 * installed, else a blocked Vector API GEMM; everything else on Vector API loops. Tensors are
 * host arrays, so upload and download are plain copies.
 */
public final class CpuBackend implements Backend {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();

    private final BLAS blas;
    private final VectorGemm javaGemm = new VectorGemm();

    private CpuBackend(BLAS blas) {
        this.blas = blas;
    }

    /** Native BLAS when available, else the plain-Java path. */
    public static CpuBackend create() {
        return new CpuBackend(NativeBlas.instance());
    }

    /** The plain-Java (Vector API) path, even where a native BLAS exists. */
    public static CpuBackend javaPath() {
        return new CpuBackend(null);
    }

    /** The native-BLAS path; throws with the reason when there is no native BLAS. */
    public static CpuBackend nativePath() {
        if (NativeBlas.instance() == null) {
            throw new BackendUnavailableException(NativeBlas.problem());
        }
        return new CpuBackend(NativeBlas.instance());
    }

    /**
     * A tensor over {@code data} itself (no copy), for host code that owns the array: data-plane
     * buffers, parameter shards. Only this backend's operations may take it.
     */
    public static Tensor wrap(float[] data) {
        return new CpuTensor(data, 0, data.length);
    }

    public boolean usesNativeBlas() {
        return blas != null;
    }

    @Override
    public String description() {
        return blas != null
                ? "cpu (native BLAS " + blas.getClass().getSimpleName() + " over libblas.so.3, "
                        + Runtime.getRuntime().availableProcessors() + " cores)"
                : "cpu (plain Java, Vector API " + S.vectorBitSize() + "-bit)";
    }

    @Override
    public Kind kind() {
        return Kind.CPU;
    }

    private static CpuTensor t(Tensor x) {
        if (x instanceof CpuTensor c) {
            return c;
        }
        throw new IllegalArgumentException("tensor of another backend passed to the CPU backend: " + x);
    }

    private static void sameLength(Tensor a, Tensor b) {
        if (a.length() != b.length()) {
            throw new IllegalArgumentException("length mismatch: " + a.length() + " vs " + b.length());
        }
    }

    private static void need(Tensor x, long elements, String what) {
        if (x.length() < elements) {
            throw new IllegalArgumentException(what + " needs " + elements + " elements but has " + x.length());
        }
    }

    // ---- memory -----------------------------------------------------------------------------

    @Override
    public Tensor allocate(int length) {
        return new CpuTensor(new float[length], 0, length);
    }

    @Override
    public void upload(float[] src, int srcOffset, Tensor dst) {
        CpuTensor d = t(dst);
        System.arraycopy(src, srcOffset, d.data, d.offset, d.length());
    }

    @Override
    public void download(Tensor src, float[] dst, int dstOffset) {
        CpuTensor s = t(src);
        System.arraycopy(s.data, s.offset, dst, dstOffset, s.length());
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        sameLength(src, dst);
        CpuTensor s = t(src);
        CpuTensor d = t(dst);
        System.arraycopy(s.data, s.offset, d.data, d.offset, s.length());
    }

    @Override
    public void fill(Tensor x, float value) {
        CpuTensor c = t(x);
        Arrays.fill(c.data, c.offset, c.offset + c.length(), value);
    }

    // ---- BLAS -------------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
                     float beta, Tensor c) {
        need(a, (long) m * k, "gemm A");
        need(b, (long) k * n, "gemm B");
        need(c, (long) m * n, "gemm C");
        if (m == 0 || n == 0) {
            return;
        }
        CpuTensor ta = t(a), tb = t(b), tc = t(c);
        if (blas == null) {
            javaGemm.gemm(transA, transB, m, n, k, alpha, ta.data, ta.offset, tb.data, tb.offset, beta,
                    tc.data, tc.offset);
            return;
        }
        if (beta == 0f) {
            // Fortran BLAS skips reading C when beta == 0, but be explicit: NaN must not survive.
            Arrays.fill(tc.data, tc.offset, tc.offset + m * n, 0f);
        }
        // Row-major C = op(A)·op(B) is column-major C^T = op(B)^T·op(A)^T: swap the operands.
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        blas.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha, tb.data, tb.offset, ldb,
                ta.data, ta.offset, lda, beta, tc.data, tc.offset, n);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        sameLength(x, y);
        CpuTensor tx = t(x), ty = t(y);
        int n = x.length();
        // Memory-bound: the Vector API loop keeps up with the bus, and skips the JNI call and
        // OpenBLAS's thread hand-off, which made native saxpy 0.25-0.98 of a plain loop here
        // (DataPlaneTable, row c).
        float[] xd = tx.data, yd = ty.data;
        int xo = tx.offset, yo = ty.offset;
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, xd, xo + i).mul(alpha).add(FloatVector.fromArray(S, yd, yo + i)).intoArray(yd, yo + i);
        }
        for (; i < n; i++) {
            yd[yo + i] += alpha * xd[xo + i];
        }
    }

    @Override
    public void scale(float alpha, Tensor x) {
        CpuTensor tx = t(x);
        int n = x.length();
        float[] d = tx.data;
        int o = tx.offset;
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, d, o + i).mul(alpha).intoArray(d, o + i);
        }
        for (; i < n; i++) {
            d[o + i] *= alpha;
        }
    }

    // ---- element-wise -------------------------------------------------------------------------

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        sameLength(a, b);
        sameLength(a, out);
        CpuTensor ta = t(a), tb = t(b), to = t(out);
        int n = a.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, ta.data, ta.offset + i).add(FloatVector.fromArray(S, tb.data, tb.offset + i))
                    .intoArray(to.data, to.offset + i);
        }
        for (; i < n; i++) {
            to.data[to.offset + i] = ta.data[ta.offset + i] + tb.data[tb.offset + i];
        }
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        sameLength(a, b);
        sameLength(a, out);
        CpuTensor ta = t(a), tb = t(b), to = t(out);
        int n = a.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, ta.data, ta.offset + i).mul(FloatVector.fromArray(S, tb.data, tb.offset + i))
                    .intoArray(to.data, to.offset + i);
        }
        for (; i < n; i++) {
            to.data[to.offset + i] = ta.data[ta.offset + i] * tb.data[tb.offset + i];
        }
    }

    @Override
    public void addRowVector(int rows, int cols, Tensor bias, Tensor m) {
        need(bias, cols, "addRowVector bias");
        need(m, (long) rows * cols, "addRowVector matrix");
        CpuTensor tb = t(bias), tm = t(m);
        for (int r = 0; r < rows; r++) {
            int row = tm.offset + r * cols;
            int i = 0;
            for (; i < S.loopBound(cols); i += V) {
                FloatVector.fromArray(S, tm.data, row + i).add(FloatVector.fromArray(S, tb.data, tb.offset + i))
                        .intoArray(tm.data, row + i);
            }
            for (; i < cols; i++) {
                tm.data[row + i] += tb.data[tb.offset + i];
            }
        }
    }

    @Override
    public void columnSums(int rows, int cols, Tensor m, Tensor out) {
        need(m, (long) rows * cols, "columnSums matrix");
        need(out, cols, "columnSums output");
        CpuTensor tm = t(m), to = t(out);
        Arrays.fill(to.data, to.offset, to.offset + cols, 0f);
        for (int r = 0; r < rows; r++) {
            int row = tm.offset + r * cols;
            int i = 0;
            for (; i < S.loopBound(cols); i += V) {
                FloatVector.fromArray(S, to.data, to.offset + i).add(FloatVector.fromArray(S, tm.data, row + i))
                        .intoArray(to.data, to.offset + i);
            }
            for (; i < cols; i++) {
                to.data[to.offset + i] += tm.data[row + i];
            }
        }
    }

    // ---- activations ---------------------------------------------------------------------------

    @Override
    public void relu(Tensor x, Tensor out) {
        sameLength(x, out);
        CpuTensor tx = t(x), to = t(out);
        int n = x.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, tx.data, tx.offset + i).max(0f).intoArray(to.data, to.offset + i);
        }
        for (; i < n; i++) {
            to.data[to.offset + i] = Math.max(tx.data[tx.offset + i], 0f);
        }
    }

    @Override
    public void reluBackward(Tensor x, Tensor gradOut, Tensor gradIn) {
        sameLength(x, gradOut);
        sameLength(x, gradIn);
        CpuTensor tx = t(x), tg = t(gradOut), ti = t(gradIn);
        int n = x.length();
        int i = 0;
        FloatVector zero = FloatVector.zero(S);
        for (; i < S.loopBound(n); i += V) {
            var positive = FloatVector.fromArray(S, tx.data, tx.offset + i).compare(VectorOperators.GT, 0f);
            zero.blend(FloatVector.fromArray(S, tg.data, tg.offset + i), positive).intoArray(ti.data, ti.offset + i);
        }
        for (; i < n; i++) {
            ti.data[ti.offset + i] = tx.data[tx.offset + i] > 0f ? tg.data[tg.offset + i] : 0f;
        }
    }

    @Override
    public void sigmoid(Tensor x, Tensor out) {
        sameLength(x, out);
        CpuTensor tx = t(x), to = t(out);
        for (int i = 0; i < x.length(); i++) {
            to.data[to.offset + i] = (float) (1.0 / (1.0 + Math.exp(-tx.data[tx.offset + i])));
        }
    }

    @Override
    public void sigmoidBackward(Tensor y, Tensor gradOut, Tensor gradIn) {
        sameLength(y, gradOut);
        sameLength(y, gradIn);
        CpuTensor ty = t(y), tg = t(gradOut), ti = t(gradIn);
        for (int i = 0; i < y.length(); i++) {
            float v = ty.data[ty.offset + i];
            ti.data[ti.offset + i] = tg.data[tg.offset + i] * v * (1f - v);
        }
    }

    @Override
    public void tanh(Tensor x, Tensor out) {
        sameLength(x, out);
        CpuTensor tx = t(x), to = t(out);
        for (int i = 0; i < x.length(); i++) {
            to.data[to.offset + i] = (float) Math.tanh(tx.data[tx.offset + i]);
        }
    }

    @Override
    public void tanhBackward(Tensor y, Tensor gradOut, Tensor gradIn) {
        sameLength(y, gradOut);
        sameLength(y, gradIn);
        CpuTensor ty = t(y), tg = t(gradOut), ti = t(gradIn);
        for (int i = 0; i < y.length(); i++) {
            float v = ty.data[ty.offset + i];
            ti.data[ti.offset + i] = tg.data[tg.offset + i] * (1f - v * v);
        }
    }

    @Override
    public void softmaxRows(int rows, int cols, Tensor x, Tensor out) {
        need(x, (long) rows * cols, "softmaxRows input");
        need(out, (long) rows * cols, "softmaxRows output");
        CpuTensor tx = t(x), to = t(out);
        for (int r = 0; r < rows; r++) {
            softmaxRow(tx.data, tx.offset + r * cols, to.data, to.offset + r * cols, cols);
        }
    }

    /** Writes the softmax of one row and returns log(sum(exp(x - max))) + max (the log-partition). */
    private static double softmaxRow(float[] x, int xo, float[] out, int oo, int cols) {
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, x[xo + c]);
        }
        double sum = 0;
        for (int c = 0; c < cols; c++) {
            float e = (float) Math.exp(x[xo + c] - max);
            out[oo + c] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int c = 0; c < cols; c++) {
            out[oo + c] *= inv;
        }
        return Math.log(sum) + max;
    }

    @Override
    public float softmaxCrossEntropy(int rows, int cols, Tensor logits, Tensor labels, Tensor gradOut) {
        need(logits, (long) rows * cols, "softmaxCrossEntropy logits");
        need(labels, rows, "softmaxCrossEntropy labels");
        need(gradOut, (long) rows * cols, "softmaxCrossEntropy gradient");
        CpuTensor tx = t(logits), ty = t(labels), tg = t(gradOut);
        double loss = 0;
        float invRows = 1f / rows;
        for (int r = 0; r < rows; r++) {
            int xo = tx.offset + r * cols;
            int go = tg.offset + r * cols;
            int label = (int) ty.data[ty.offset + r];
            if (label < 0 || label >= cols) {
                throw new IllegalArgumentException("label " + label + " of row " + r + " is outside 0.." + (cols - 1));
            }
            double logZ = softmaxRow(tx.data, xo, tg.data, go, cols);
            loss += logZ - tx.data[xo + label];
            for (int c = 0; c < cols; c++) {
                tg.data[go + c] *= invRows;
            }
            tg.data[go + label] -= invRows;
        }
        return (float) (loss / rows);
    }

    @Override
    public void argmaxRows(int rows, int cols, Tensor x, Tensor out) {
        need(x, (long) rows * cols, "argmaxRows input");
        need(out, rows, "argmaxRows output");
        CpuTensor tx = t(x), to = t(out);
        for (int r = 0; r < rows; r++) {
            int row = tx.offset + r * cols;
            int best = 0;
            for (int c = 1; c < cols; c++) {
                if (tx.data[row + c] > tx.data[row + best]) {
                    best = c;
                }
            }
            to.data[to.offset + r] = best;
        }
    }

    // ---- reductions ---------------------------------------------------------------------------

    @Override
    public float sum(Tensor x) {
        CpuTensor tx = t(x);
        int n = x.length();
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            acc = acc.add(FloatVector.fromArray(S, tx.data, tx.offset + i));
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += tx.data[tx.offset + i];
        }
        return (float) s;
    }

    @Override
    public float dot(Tensor x, Tensor y) {
        sameLength(x, y);
        CpuTensor tx = t(x), ty = t(y);
        int n = x.length();
        if (blas != null) {
            return blas.sdot(n, tx.data, tx.offset, 1, ty.data, ty.offset, 1);
        }
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            acc = FloatVector.fromArray(S, tx.data, tx.offset + i).fma(FloatVector.fromArray(S, ty.data, ty.offset + i), acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += tx.data[tx.offset + i] * ty.data[ty.offset + i];
        }
        return (float) s;
    }

    @Override
    public float norm2(Tensor x) {
        CpuTensor tx = t(x);
        int n = x.length();
        // A plain sum of squares: OpenBLAS's scaled snrm2 may skip NaN on some kernels.
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector v = FloatVector.fromArray(S, tx.data, tx.offset + i);
            acc = v.fma(v, acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            double v = tx.data[tx.offset + i];
            s += v * v;
        }
        return (float) Math.sqrt(s);
    }

    // ---- optimizer steps --------------------------------------------------------------------------

    @Override
    public void sgdMomentumStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum,
                                float weightDecay) {
        sameLength(param, grad);
        sameLength(param, velocity);
        CpuTensor p = t(param), g = t(grad), v = t(velocity);
        int n = param.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector pv = FloatVector.fromArray(S, p.data, p.offset + i);
            FloatVector gv = FloatVector.fromArray(S, g.data, g.offset + i).add(pv.mul(weightDecay));
            FloatVector vv = FloatVector.fromArray(S, v.data, v.offset + i).mul(momentum).add(gv);
            vv.intoArray(v.data, v.offset + i);
            pv.sub(vv.mul(lr)).intoArray(p.data, p.offset + i);
        }
        for (; i < n; i++) {
            float pv = p.data[p.offset + i];
            float vv = momentum * v.data[v.offset + i] + (g.data[g.offset + i] + weightDecay * pv);
            v.data[v.offset + i] = vv;
            p.data[p.offset + i] = pv - lr * vv;
        }
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                         float eps, int step) {
        sameLength(param, grad);
        sameLength(param, m);
        sameLength(param, v);
        if (step < 1) {
            throw new IllegalArgumentException("Adam step count is 1-based, got " + step);
        }
        CpuTensor tp = t(param), tg = t(grad), tm = t(m), tv = t(v);
        float c1 = (float) (1.0 / (1.0 - Math.pow(beta1, step)));
        float c2 = (float) (1.0 / (1.0 - Math.pow(beta2, step)));
        float ob1 = 1f - beta1, ob2 = 1f - beta2;
        int n = param.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector g = FloatVector.fromArray(S, tg.data, tg.offset + i);
            FloatVector mm = FloatVector.fromArray(S, tm.data, tm.offset + i).mul(beta1).add(g.mul(ob1));
            FloatVector vv = FloatVector.fromArray(S, tv.data, tv.offset + i).mul(beta2).add(g.mul(g).mul(ob2));
            mm.intoArray(tm.data, tm.offset + i);
            vv.intoArray(tv.data, tv.offset + i);
            FloatVector update = mm.mul(c1).div(vv.mul(c2).sqrt().add(eps));
            FloatVector.fromArray(S, tp.data, tp.offset + i).sub(update.mul(lr)).intoArray(tp.data, tp.offset + i);
        }
        for (; i < n; i++) {
            float g = tg.data[tg.offset + i];
            float mm = beta1 * tm.data[tm.offset + i] + ob1 * g;
            float vv = beta2 * tv.data[tv.offset + i] + ob2 * g * g;
            tm.data[tm.offset + i] = mm;
            tv.data[tv.offset + i] = vv;
            tp.data[tp.offset + i] -= lr * (mm * c1) / ((float) Math.sqrt(vv * c2) + eps);
        }
    }

    @Override
    public void synchronize() {
        // CPU work is complete when the call returns.
    }

    @Override
    public void close() {
        // Nothing to free: tensors are garbage-collected arrays.
    }
}
