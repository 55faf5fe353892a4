package io.tributary.kernels.cpu;

import dev.ludovic.netlib.blas.BLAS;
import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendUnavailableException;
import io.tributary.kernels.Tensor;
import java.util.Arrays;

/**
 * The CPU backend: GEMM and dot through the machine's native BLAS (OpenBLAS) where it is
 * installed, else a blocked Vector API GEMM ({@link HostBlas}); everything else on Vector API
 * loops ({@link VectorLoops}) and row-wise loops ({@link SoftmaxRows}). Tensors are host arrays,
 * so upload and download are plain copies. This class checks shapes and tensors and routes.
 */
public final class CpuBackend implements Backend {

    /** Tensors allocated and not freed: {@link #liveTensors()} (written by the one thread using the backend). */
    private volatile long liveTensors;

    private final HostBlas blas;

    private CpuBackend(BLAS blas) {
        this.blas = new HostBlas(blas);
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
        return blas.isNative();
    }

    @Override
    public String description() {
        return blas.isNative()
                ? "cpu (native BLAS " + blas.nativeName() + " over libblas.so.3, "
                        + Runtime.getRuntime().availableProcessors() + " cores)"
                : "cpu (plain Java, Vector API " + VectorLoops.vectorBits() + "-bit)";
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

    private static void sameLength(Tensor a, Tensor b, Tensor c) {
        sameLength(a, b);
        sameLength(a, c);
    }

    private static void need(Tensor x, long elements, String what) {
        if (x.length() < elements) {
            throw new IllegalArgumentException(what + " needs " + elements + " elements but has " + x.length());
        }
    }

    // ---- memory -----------------------------------------------------------------------------

    @Override
    public Tensor allocate(int length) {
        CpuTensor t = new CpuTensor(new float[length], 0, length);
        liveTensors++;
        return t;
    }

    /** The backend keeps no reference to a tensor's array: the array goes with the caller's last one. */
    @Override
    public void free(Tensor tensor) {
        CpuTensor c = t(tensor);
        if (c.offset != 0 || c.length() != c.data.length) {
            throw new IllegalArgumentException("free the tensor allocate() returned, not a slice of it: " + c.length()
                    + " elements at " + c.offset + " of " + c.data.length);
        }
        if (c.freed) {
            throw new IllegalArgumentException("tensor of " + c.length() + " elements freed twice: a model or"
                    + " optimizer gave it back already");
        }
        c.freed = true;
        liveTensors--;
    }

    /** Tensors allocated and not freed yet (what a GPU backend would hold in device memory). */
    public long liveTensors() {
        return liveTensors;
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
        blas.gemm(transA, transB, m, n, k, alpha, t(a), t(b), beta, t(c));
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        sameLength(x, y);
        VectorLoops.axpy(alpha, t(x), t(y));
    }

    @Override
    public void scale(float alpha, Tensor x) {
        VectorLoops.scale(alpha, t(x));
    }

    // ---- element-wise -------------------------------------------------------------------------

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        sameLength(a, b, out);
        VectorLoops.add(t(a), t(b), t(out));
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        sameLength(a, b, out);
        VectorLoops.mul(t(a), t(b), t(out));
    }

    @Override
    public void addRowVector(int rows, int cols, Tensor bias, Tensor m) {
        need(bias, cols, "addRowVector bias");
        need(m, (long) rows * cols, "addRowVector matrix");
        VectorLoops.addRowVector(rows, cols, t(bias), t(m));
    }

    @Override
    public void columnSums(int rows, int cols, Tensor m, Tensor out) {
        need(m, (long) rows * cols, "columnSums matrix");
        need(out, cols, "columnSums output");
        VectorLoops.columnSums(rows, cols, t(m), t(out));
    }

    // ---- activations ---------------------------------------------------------------------------

    @Override
    public void relu(Tensor x, Tensor out) {
        sameLength(x, out);
        VectorLoops.relu(t(x), t(out));
    }

    @Override
    public void reluBackward(Tensor x, Tensor gradOut, Tensor gradIn) {
        sameLength(x, gradOut, gradIn);
        VectorLoops.reluBackward(t(x), t(gradOut), t(gradIn));
    }

    @Override
    public void sigmoid(Tensor x, Tensor out) {
        sameLength(x, out);
        VectorLoops.sigmoid(t(x), t(out));
    }

    @Override
    public void sigmoidBackward(Tensor y, Tensor gradOut, Tensor gradIn) {
        sameLength(y, gradOut, gradIn);
        VectorLoops.sigmoidBackward(t(y), t(gradOut), t(gradIn));
    }

    @Override
    public void tanh(Tensor x, Tensor out) {
        sameLength(x, out);
        VectorLoops.tanh(t(x), t(out));
    }

    @Override
    public void tanhBackward(Tensor y, Tensor gradOut, Tensor gradIn) {
        sameLength(y, gradOut, gradIn);
        VectorLoops.tanhBackward(t(y), t(gradOut), t(gradIn));
    }

    @Override
    public void softmaxRows(int rows, int cols, Tensor x, Tensor out) {
        need(x, (long) rows * cols, "softmaxRows input");
        need(out, (long) rows * cols, "softmaxRows output");
        SoftmaxRows.softmax(rows, cols, t(x), t(out));
    }

    @Override
    public float softmaxCrossEntropy(int rows, int cols, Tensor logits, Tensor labels, Tensor gradOut) {
        need(logits, (long) rows * cols, "softmaxCrossEntropy logits");
        need(labels, rows, "softmaxCrossEntropy labels");
        need(gradOut, (long) rows * cols, "softmaxCrossEntropy gradient");
        return SoftmaxRows.crossEntropy(rows, cols, t(logits), t(labels), t(gradOut));
    }

    @Override
    public void argmaxRows(int rows, int cols, Tensor x, Tensor out) {
        need(x, (long) rows * cols, "argmaxRows input");
        need(out, rows, "argmaxRows output");
        SoftmaxRows.argmax(rows, cols, t(x), t(out));
    }

    // ---- reductions ---------------------------------------------------------------------------

    @Override
    public float sum(Tensor x) {
        return VectorLoops.sum(t(x));
    }

    @Override
    public float dot(Tensor x, Tensor y) {
        sameLength(x, y);
        return blas.dot(t(x), t(y));
    }

    @Override
    public float norm2(Tensor x) {
        return VectorLoops.norm2(t(x));
    }

    // ---- optimizer steps --------------------------------------------------------------------------

    @Override
    public void sgdMomentumStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum,
                                float weightDecay) {
        sameLength(param, grad, velocity);
        VectorLoops.sgdMomentum(t(param), t(grad), t(velocity), lr, momentum, weightDecay);
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                         float eps, int step) {
        sameLength(param, grad, m);
        sameLength(param, v);
        if (step < 1) {
            throw new IllegalArgumentException("Adam step count is 1-based, got " + step);
        }
        VectorLoops.adam(t(param), t(grad), t(m), t(v), lr, beta1, beta2, eps, step);
    }

    // ---- transformer layers -----------------------------------------------------------------

    @Override
    public void gatherRows(int rows, int dim, Tensor table, Tensor ids, Tensor out) {
        need(ids, rows, "gatherRows ids");
        need(out, (long) rows * dim, "gatherRows output");
        TransformerLoops.gatherRows(rows, dim, t(table), t(ids), t(out), table.length() / dim);
    }

    @Override
    public void scatterAddRows(int rows, int dim, Tensor grad, Tensor ids, Tensor tableGrad) {
        need(ids, rows, "scatterAddRows ids");
        need(grad, (long) rows * dim, "scatterAddRows gradient");
        TransformerLoops.scatterAddRows(rows, dim, t(grad), t(ids), t(tableGrad), tableGrad.length() / dim);
    }

    @Override
    public void addPeriodicRows(int rows, int period, int dim, Tensor table, Tensor x) {
        need(table, (long) Math.min(rows, period) * dim, "addPeriodicRows table");
        need(x, (long) rows * dim, "addPeriodicRows matrix");
        TransformerLoops.addPeriodicRows(rows, period, dim, t(table), t(x));
    }

    @Override
    public void sumPeriodicRows(int rows, int period, int dim, Tensor x, Tensor out) {
        need(x, (long) rows * dim, "sumPeriodicRows matrix");
        need(out, (long) period * dim, "sumPeriodicRows output");
        TransformerLoops.sumPeriodicRows(rows, period, dim, t(x), t(out));
    }

    @Override
    public void layerNorm(int rows, int dim, float eps, Tensor x, Tensor gamma, Tensor beta, Tensor out, Tensor mean,
                          Tensor rstd) {
        need(x, (long) rows * dim, "layerNorm input");
        need(out, (long) rows * dim, "layerNorm output");
        need(gamma, dim, "layerNorm gamma");
        need(beta, dim, "layerNorm beta");
        need(mean, rows, "layerNorm mean");
        need(rstd, rows, "layerNorm rstd");
        TransformerLoops.layerNorm(rows, dim, eps, t(x), t(gamma), t(beta), t(out), t(mean), t(rstd));
    }

    @Override
    public void layerNormBackward(int rows, int dim, Tensor x, Tensor mean, Tensor rstd, Tensor gamma, Tensor gradOut,
                                  Tensor gradIn, Tensor gradGamma, Tensor gradBeta) {
        need(x, (long) rows * dim, "layerNormBackward input");
        need(gradOut, (long) rows * dim, "layerNormBackward output gradient");
        need(gradIn, (long) rows * dim, "layerNormBackward input gradient");
        need(gamma, dim, "layerNormBackward gamma");
        need(gradGamma, dim, "layerNormBackward gamma gradient");
        need(gradBeta, dim, "layerNormBackward beta gradient");
        need(mean, rows, "layerNormBackward mean");
        need(rstd, rows, "layerNormBackward rstd");
        TransformerLoops.layerNormBackward(rows, dim, t(x), t(mean), t(rstd), t(gamma), t(gradOut), t(gradIn),
                t(gradGamma), t(gradBeta));
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        sameLength(x, out);
        TransformerLoops.gelu(t(x), t(out));
    }

    @Override
    public void geluBackward(Tensor x, Tensor gradOut, Tensor gradIn) {
        sameLength(x, gradOut, gradIn);
        TransformerLoops.geluBackward(t(x), t(gradOut), t(gradIn));
    }

    @Override
    public void splitHeads(int batch, int time, int heads, int headDim, Tensor qkv, Tensor q, Tensor k, Tensor v) {
        heads(batch, time, heads, headDim, qkv, q, k, v);
        TransformerLoops.splitHeads(batch, time, heads, headDim, t(qkv), t(q), t(k), t(v), false);
    }

    @Override
    public void joinHeads(int batch, int time, int heads, int headDim, Tensor q, Tensor k, Tensor v, Tensor qkv) {
        heads(batch, time, heads, headDim, qkv, q, k, v);
        TransformerLoops.splitHeads(batch, time, heads, headDim, t(qkv), t(q), t(k), t(v), true);
    }

    private static void heads(int batch, int time, int heads, int headDim, Tensor qkv, Tensor q, Tensor k, Tensor v) {
        long n = (long) batch * time * heads * headDim;
        need(qkv, 3 * n, "qkv rows");
        need(q, n, "per-head q");
        need(k, n, "per-head k");
        need(v, n, "per-head v");
    }

    @Override
    public void mergeHeads(int batch, int time, int heads, int headDim, Tensor y, Tensor out) {
        long n = (long) batch * time * heads * headDim;
        need(y, n, "mergeHeads input");
        need(out, n, "mergeHeads output");
        TransformerLoops.mergeHeads(batch, time, heads, headDim, t(y), t(out), true);
    }

    @Override
    public void unmergeHeads(int batch, int time, int heads, int headDim, Tensor rows, Tensor y) {
        long n = (long) batch * time * heads * headDim;
        need(rows, n, "unmergeHeads input");
        need(y, n, "unmergeHeads output");
        TransformerLoops.mergeHeads(batch, time, heads, headDim, t(y), t(rows), false);
    }

    @Override
    public void causalSoftmax(int blocks, int time, float scale, Tensor scores, Tensor probs) {
        need(scores, (long) blocks * time * time, "causalSoftmax scores");
        need(probs, (long) blocks * time * time, "causalSoftmax output");
        TransformerLoops.causalSoftmax(blocks, time, scale, t(scores), t(probs));
    }

    @Override
    public void softmaxBackward(int rows, int cols, float scale, Tensor probs, Tensor gradProbs, Tensor gradScores) {
        need(probs, (long) rows * cols, "softmaxBackward probabilities");
        need(gradProbs, (long) rows * cols, "softmaxBackward output gradient");
        need(gradScores, (long) rows * cols, "softmaxBackward input gradient");
        TransformerLoops.softmaxBackward(rows, cols, scale, t(probs), t(gradProbs), t(gradScores));
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
