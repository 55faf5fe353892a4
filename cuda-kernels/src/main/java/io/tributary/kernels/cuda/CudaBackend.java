package io.tributary.kernels.cuda;

import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendUnavailableException;
import io.tributary.kernels.Tensor;
import java.util.Objects;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPU backend: GEMM and BLAS-1 through JCublas2 ({@link Cublas}), everything else through
 * Tributary's own kernels ({@link KernelLaunches}, the PTX built from
 * {@code src/main/cuda/tributary_kernels.cu}). It works in the device's primary context
 * ({@link CudaContext}), which the CUDA runtime behind cuBLAS shares, and queues all work on the
 * default stream, so operations run in call order; results that return a float wait for it.
 *
 * <p>This class checks shapes and tensors and routes each operation. Kernel parameter lists, host
 * scalars and reduction scratch are allocated once, so the steady state allocates nothing on the
 * device and little on the heap. Not thread-safe (one thread at a time, as {@link Backend} says),
 * but the thread may change between calls.
 */
public final class CudaBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);

    private final CudaContext context;
    private KernelLaunches kernels;
    private Cublas cublas;
    private boolean closed;
    private String description;

    private CudaBackend(int ordinal) {
        this.context = new CudaContext(ordinal);
        String stage = "cuDeviceGetAttribute";
        try {
            int sms = context.attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            stage = "cuModuleLoadData";
            kernels = new KernelLaunches(context, sms);
            stage = "cublasCreate";
            cublas = new Cublas();
            stage = "cuDeviceGetAttribute";
            description = describe(sms);
        } catch (RuntimeException e) {
            throw CudaNatives.initFailure(e, stage, ordinal, this::release);
        }
    }

    /**
     * Opens CUDA device {@code deviceOrdinal}.
     *
     * @throws BackendUnavailableException with a one-line reason and fix when the JCuda natives, the
     *     driver, a device, cuBLAS or the PTX cannot be used
     */
    public static CudaBackend open(int deviceOrdinal) {
        if (deviceOrdinal < 0) {
            throw new IllegalArgumentException("CUDA device ordinal must be >= 0, got " + deviceOrdinal);
        }
        CudaNatives.load();
        CudaBackend backend = new CudaBackend(deviceOrdinal);
        LOG.info("opened {}", backend.description);
        return backend;
    }

    /**
     * Whether device 0 is usable: {@code null} when it is, else the one-line reason. Opens and closes
     * the device to find out (driver, cuBLAS and PTX included), which takes a moment.
     */
    public static String probe() {
        try {
            open(0).close();
            return null;
        } catch (BackendUnavailableException e) {
            LOG.debug("CUDA backend unavailable: {}", e.getMessage());
            return e.getMessage();
        }
    }

    private String describe(int sms) {
        int major = context.attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        int minor = context.attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        int[] driver = new int[1];
        JCudaDriver.cuDriverGetVersion(driver);
        return "cuda (device " + context.ordinal() + ": " + context.deviceName() + ", sm_" + major + minor + ", " + sms
                + " SMs; driver CUDA " + driver[0] / 1000 + "." + driver[0] % 1000 / 10 + ", cuBLAS " + cublas.version()
                + ")";
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public Kind kind() {
        return Kind.CUDA;
    }

    // ---- checks -----------------------------------------------------------------------------------

    /** Checks the backend is open and makes its context current on the calling thread. */
    private void enter() {
        if (closed) {
            throw new IllegalStateException("the CUDA backend is closed; its tensors are gone");
        }
        context.makeCurrent();
    }

    private CudaTensor t(Tensor x) {
        if (x instanceof CudaTensor c && c.owner == this) {
            return c;
        }
        throw new IllegalArgumentException("tensor " + x + " does not belong to this CUDA backend; allocate it "
                + "with this backend's allocate()");
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

    private static void dims(int rows, int cols, String what) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException(what + ": negative shape " + rows + " x " + cols);
        }
    }

    /** Checks three tensors of one length; true when there is work (the length is not 0), the context entered. */
    private boolean enterElementwise(Tensor a, Tensor b, Tensor out) {
        sameLength(a, b, out);
        t(a);
        t(b);
        t(out);
        if (a.length() == 0) {
            return false;
        }
        enter();
        return true;
    }

    // ---- memory -----------------------------------------------------------------------------------

    @Override
    public Tensor allocate(int length) {
        if (length < 0) {
            throw new IllegalArgumentException("tensor length must be >= 0, got " + length);
        }
        enter();
        return new CudaTensor(this, context.allocateTensor(length), length, 0, length, true);
    }

    @Override
    public void free(Tensor tensor) {
        CudaTensor c = t(tensor);
        if (!c.whole) {
            throw new IllegalArgumentException("free the tensor allocate() returned, not a slice of it: " + c);
        }
        enter();
        context.freeTensor(c.base);
    }

    @Override
    public void upload(float[] src, int srcOffset, Tensor dst) {
        CudaTensor d = t(dst);
        Objects.checkFromIndexSize(srcOffset, d.length(), src.length);
        if (d.length() == 0) {
            return;
        }
        enter();
        context.upload(src, srcOffset, d.pointer, d.length());
    }

    @Override
    public void download(Tensor src, float[] dst, int dstOffset) {
        CudaTensor s = t(src);
        Objects.checkFromIndexSize(dstOffset, s.length(), dst.length);
        if (s.length() == 0) {
            return;
        }
        enter();
        context.download(s.pointer, dst, dstOffset, s.length());
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        sameLength(src, dst);
        CudaTensor s = t(src);
        CudaTensor d = t(dst);
        if (s.length() == 0 || s.address == d.address) {
            return;
        }
        enter();
        context.copy(s.pointer, d.pointer, s.length());
    }

    @Override
    public void fill(Tensor x, float value) {
        CudaTensor c = t(x);
        if (c.length() == 0) {
            return;
        }
        enter();
        kernels.fill(c.address, c.length(), value);
    }

    // ---- BLAS ---------------------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
                     float beta, Tensor c) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm: negative shape m=" + m + " n=" + n + " k=" + k);
        }
        need(a, (long) m * k, "gemm A");
        need(b, (long) k * n, "gemm B");
        need(c, (long) m * n, "gemm C");
        CudaTensor ta = t(a), tb = t(b), tc = t(c);
        if (m == 0 || n == 0) {
            return;
        }
        enter();
        if (k == 0) { // op(A)·op(B) is all zeros; cuBLAS would reject the zero leading dimensions
            if (beta == 0f) {
                kernels.fill(tc.address, m * n, 0f);
            } else {
                cublas.scale(m * n, beta, tc.pointer);
            }
            return;
        }
        cublas.gemm(transA, transB, m, n, k, alpha, ta.pointer, tb.pointer, beta, tc.pointer);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        sameLength(x, y);
        CudaTensor tx = t(x), ty = t(y);
        if (tx.length() == 0) {
            return;
        }
        enter();
        cublas.axpy(tx.length(), alpha, tx.pointer, ty.pointer);
    }

    @Override
    public void scale(float alpha, Tensor x) {
        CudaTensor tx = t(x);
        if (tx.length() == 0) {
            return;
        }
        enter();
        cublas.scale(tx.length(), alpha, tx.pointer);
    }

    // ---- element-wise -------------------------------------------------------------------------------

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        if (enterElementwise(a, b, out)) {
            kernels.add(t(a), t(b), t(out));
        }
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        if (enterElementwise(a, b, out)) {
            kernels.mul(t(a), t(b), t(out));
        }
    }

    @Override
    public void addRowVector(int rows, int cols, Tensor bias, Tensor m) {
        dims(rows, cols, "addRowVector");
        need(bias, cols, "addRowVector bias");
        need(m, (long) rows * cols, "addRowVector matrix");
        CudaTensor tb = t(bias), tm = t(m);
        if (rows * cols == 0) {
            return;
        }
        enter();
        kernels.addRowVector(rows, cols, tb, tm);
    }

    @Override
    public void columnSums(int rows, int cols, Tensor m, Tensor out) {
        dims(rows, cols, "columnSums");
        need(m, (long) rows * cols, "columnSums matrix");
        need(out, cols, "columnSums output");
        CudaTensor tm = t(m), to = t(out);
        if (cols == 0) {
            return;
        }
        enter();
        kernels.columnSums(rows, cols, tm, to);
    }

    // ---- activations ----------------------------------------------------------------------------------

    @Override
    public void relu(Tensor x, Tensor out) {
        if (enterElementwise(x, out, out)) {
            kernels.relu(t(x), t(out));
        }
    }

    @Override
    public void reluBackward(Tensor x, Tensor gradOut, Tensor gradIn) {
        if (enterElementwise(x, gradOut, gradIn)) {
            kernels.reluBackward(t(x), t(gradOut), t(gradIn));
        }
    }

    @Override
    public void sigmoid(Tensor x, Tensor out) {
        if (enterElementwise(x, out, out)) {
            kernels.sigmoid(t(x), t(out));
        }
    }

    @Override
    public void sigmoidBackward(Tensor y, Tensor gradOut, Tensor gradIn) {
        if (enterElementwise(y, gradOut, gradIn)) {
            kernels.sigmoidBackward(t(y), t(gradOut), t(gradIn));
        }
    }

    @Override
    public void tanh(Tensor x, Tensor out) {
        if (enterElementwise(x, out, out)) {
            kernels.tanh(t(x), t(out));
        }
    }

    @Override
    public void tanhBackward(Tensor y, Tensor gradOut, Tensor gradIn) {
        if (enterElementwise(y, gradOut, gradIn)) {
            kernels.tanhBackward(t(y), t(gradOut), t(gradIn));
        }
    }

    @Override
    public void softmaxRows(int rows, int cols, Tensor x, Tensor out) {
        dims(rows, cols, "softmaxRows");
        need(x, (long) rows * cols, "softmaxRows input");
        need(out, (long) rows * cols, "softmaxRows output");
        CudaTensor tx = t(x), to = t(out);
        if (rows == 0 || cols == 0) {
            return;
        }
        enter();
        kernels.softmaxRows(rows, cols, tx, to);
    }

    @Override
    public float softmaxCrossEntropy(int rows, int cols, Tensor logits, Tensor labels, Tensor gradOut) {
        dims(rows, cols, "softmaxCrossEntropy");
        need(logits, (long) rows * cols, "softmaxCrossEntropy logits");
        need(labels, rows, "softmaxCrossEntropy labels");
        need(gradOut, (long) rows * cols, "softmaxCrossEntropy gradient");
        CudaTensor tx = t(logits), ty = t(labels), tg = t(gradOut);
        if (rows == 0) {
            return Float.NaN; // the mean over no rows
        }
        enter();
        return kernels.softmaxCrossEntropy(rows, cols, tx, ty, tg);
    }

    @Override
    public void argmaxRows(int rows, int cols, Tensor x, Tensor out) {
        dims(rows, cols, "argmaxRows");
        need(x, (long) rows * cols, "argmaxRows input");
        need(out, rows, "argmaxRows output");
        CudaTensor tx = t(x), to = t(out);
        if (rows == 0) {
            return;
        }
        enter();
        kernels.argmaxRows(rows, cols, tx, to);
    }

    // ---- reductions -----------------------------------------------------------------------------------

    @Override
    public float sum(Tensor x) {
        CudaTensor tx = t(x);
        if (tx.length() == 0) {
            return 0f;
        }
        enter();
        return kernels.sum(tx);
    }

    @Override
    public float dot(Tensor x, Tensor y) {
        sameLength(x, y);
        CudaTensor tx = t(x), ty = t(y);
        if (tx.length() == 0) {
            return 0f;
        }
        enter();
        return cublas.dot(tx.length(), tx.pointer, ty.pointer);
    }

    /**
     * The square root of {@code dot(x, x)} rather than {@code cublasSnrm2}: the scaled nrm2 of a
     * BLAS may skip NaN, and the contract says a reduction never hides one.
     */
    @Override
    public float norm2(Tensor x) {
        return (float) Math.sqrt(dot(x, x));
    }

    // ---- optimizer steps --------------------------------------------------------------------------------

    @Override
    public void sgdMomentumStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum,
                                float weightDecay) {
        if (enterElementwise(param, grad, velocity)) {
            kernels.sgdMomentum(t(param), t(grad), t(velocity), lr, momentum, weightDecay);
        }
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                         float eps, int step) {
        if (step < 1) {
            throw new IllegalArgumentException("Adam step count is 1-based, got " + step);
        }
        sameLength(param, grad, m);
        sameLength(param, v);
        CudaTensor tp = t(param), tg = t(grad), tm = t(m), tv = t(v);
        if (tp.length() == 0) {
            return;
        }
        enter();
        kernels.adam(tp, tg, tm, tv, lr, beta1, beta2, eps, step);
    }

    // ---- transformer layers ---------------------------------------------------------------------

    @Override
    public void gatherRows(int rows, int dim, Tensor table, Tensor ids, Tensor out) {
        dims(rows, dim, "gatherRows");
        need(ids, rows, "gatherRows ids");
        need(out, (long) rows * dim, "gatherRows output");
        CudaTensor tt = t(table), ti = t(ids), to = t(out);
        if (rows == 0 || dim == 0) {
            return;
        }
        enter();
        kernels.gatherRows(rows, dim, tt, ti, to);
    }

    @Override
    public void scatterAddRows(int rows, int dim, Tensor grad, Tensor ids, Tensor tableGrad) {
        dims(rows, dim, "scatterAddRows");
        need(ids, rows, "scatterAddRows ids");
        need(grad, (long) rows * dim, "scatterAddRows gradient");
        CudaTensor tg = t(grad), ti = t(ids), tt = t(tableGrad);
        if (rows == 0 || dim == 0) {
            return;
        }
        enter();
        kernels.scatterAddRows(rows, dim, tg, ti, tt);
    }

    @Override
    public void addPeriodicRows(int rows, int period, int dim, Tensor table, Tensor x) {
        dims(rows, dim, "addPeriodicRows");
        need(table, (long) Math.min(rows, period) * dim, "addPeriodicRows table");
        need(x, (long) rows * dim, "addPeriodicRows matrix");
        CudaTensor tt = t(table), tx = t(x);
        if (rows == 0 || dim == 0) {
            return;
        }
        enter();
        kernels.addPeriodicRows(rows, period, dim, tt, tx);
    }

    @Override
    public void sumPeriodicRows(int rows, int period, int dim, Tensor x, Tensor out) {
        dims(rows, dim, "sumPeriodicRows");
        need(x, (long) rows * dim, "sumPeriodicRows matrix");
        need(out, (long) period * dim, "sumPeriodicRows output");
        CudaTensor tx = t(x), to = t(out);
        if (period == 0 || dim == 0) {
            return;
        }
        enter();
        kernels.sumPeriodicRows(rows, period, dim, tx, to);
    }

    @Override
    public void layerNorm(int rows, int dim, float eps, Tensor x, Tensor gamma, Tensor beta, Tensor out, Tensor mean,
                          Tensor rstd) {
        dims(rows, dim, "layerNorm");
        need(x, (long) rows * dim, "layerNorm input");
        need(out, (long) rows * dim, "layerNorm output");
        need(gamma, dim, "layerNorm gamma");
        need(beta, dim, "layerNorm beta");
        need(mean, rows, "layerNorm mean");
        need(rstd, rows, "layerNorm rstd");
        CudaTensor tx = t(x), tg = t(gamma), tb = t(beta), to = t(out), tm = t(mean), tr = t(rstd);
        if (rows == 0 || dim == 0) {
            return;
        }
        enter();
        kernels.layerNorm(rows, dim, eps, tx, tg, tb, to, tm, tr);
    }

    @Override
    public void layerNormBackward(int rows, int dim, Tensor x, Tensor mean, Tensor rstd, Tensor gamma, Tensor gradOut,
                                  Tensor gradIn, Tensor gradGamma, Tensor gradBeta) {
        dims(rows, dim, "layerNormBackward");
        need(x, (long) rows * dim, "layerNormBackward input");
        need(gradOut, (long) rows * dim, "layerNormBackward output gradient");
        need(gradIn, (long) rows * dim, "layerNormBackward input gradient");
        need(gamma, dim, "layerNormBackward gamma");
        need(gradGamma, dim, "layerNormBackward gamma gradient");
        need(gradBeta, dim, "layerNormBackward beta gradient");
        need(mean, rows, "layerNormBackward mean");
        need(rstd, rows, "layerNormBackward rstd");
        CudaTensor tx = t(x), tm = t(mean), tr = t(rstd), tg = t(gamma), tgo = t(gradOut), tgi = t(gradIn),
                tgg = t(gradGamma), tgb = t(gradBeta);
        if (dim == 0) {
            return;
        }
        enter();
        kernels.layerNormBackward(rows, dim, tx, tm, tr, tg, tgo, tgi, tgg, tgb);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        sameLength(x, out);
        CudaTensor tx = t(x), to = t(out);
        if (tx.length() == 0) {
            return;
        }
        enter();
        kernels.gelu(tx, to);
    }

    @Override
    public void geluBackward(Tensor x, Tensor gradOut, Tensor gradIn) {
        sameLength(x, gradOut, gradIn);
        CudaTensor tx = t(x), to = t(gradOut), ti = t(gradIn);
        if (tx.length() == 0) {
            return;
        }
        enter();
        kernels.geluBackward(tx, to, ti);
    }

    @Override
    public void splitHeads(int batch, int time, int heads, int headDim, Tensor qkv, Tensor q, Tensor k, Tensor v) {
        heads(batch, time, heads, headDim, qkv, q, k, v, false);
    }

    @Override
    public void joinHeads(int batch, int time, int heads, int headDim, Tensor q, Tensor k, Tensor v, Tensor qkv) {
        heads(batch, time, heads, headDim, qkv, q, k, v, true);
    }

    private void heads(int batch, int time, int heads, int headDim, Tensor qkv, Tensor q, Tensor k, Tensor v,
                       boolean join) {
        long n = (long) batch * time * heads * headDim;
        need(qkv, 3 * n, "qkv rows");
        need(q, n, "per-head q");
        need(k, n, "per-head k");
        need(v, n, "per-head v");
        CudaTensor tqkv = t(qkv), tq = t(q), tk = t(k), tv = t(v);
        if (n == 0) {
            return;
        }
        enter();
        kernels.splitHeads(batch, time, heads, headDim, tqkv, tq, tk, tv, join);
    }

    @Override
    public void mergeHeads(int batch, int time, int heads, int headDim, Tensor y, Tensor out) {
        merge(batch, time, heads, headDim, y, out, true);
    }

    @Override
    public void unmergeHeads(int batch, int time, int heads, int headDim, Tensor rows, Tensor y) {
        merge(batch, time, heads, headDim, y, rows, false);
    }

    private void merge(int batch, int time, int heads, int headDim, Tensor y, Tensor rows, boolean merge) {
        long n = (long) batch * time * heads * headDim;
        need(y, n, "per-head outputs");
        need(rows, n, "head rows");
        CudaTensor ty = t(y), tr = t(rows);
        if (n == 0) {
            return;
        }
        enter();
        kernels.mergeHeads(batch, time, heads, headDim, ty, tr, merge);
    }

    @Override
    public void causalSoftmax(int blocks, int time, float scale, Tensor scores, Tensor probs) {
        dims(blocks, time, "causalSoftmax");
        need(scores, (long) blocks * time * time, "causalSoftmax scores");
        need(probs, (long) blocks * time * time, "causalSoftmax output");
        CudaTensor ts = t(scores), tp = t(probs);
        if (blocks == 0 || time == 0) {
            return;
        }
        enter();
        kernels.causalSoftmax(blocks, time, scale, ts, tp);
    }

    @Override
    public void softmaxBackward(int rows, int cols, float scale, Tensor probs, Tensor gradProbs, Tensor gradScores) {
        dims(rows, cols, "softmaxBackward");
        need(probs, (long) rows * cols, "softmaxBackward probabilities");
        need(gradProbs, (long) rows * cols, "softmaxBackward output gradient");
        need(gradScores, (long) rows * cols, "softmaxBackward input gradient");
        CudaTensor tp = t(probs), tg = t(gradProbs), ts = t(gradScores);
        if (rows == 0 || cols == 0) {
            return;
        }
        enter();
        kernels.softmaxBackward(rows, cols, scale, tp, tg, ts);
    }

    @Override
    public void synchronize() {
        enter();
        context.synchronize();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        context.makeCurrentForRelease();
        closed = true;
        release();
    }

    /** Frees whatever the constructor got as far as creating; throws the first failure, the rest suppressed. */
    private void release() {
        RuntimeException first = null;
        if (kernels != null) {
            first = CudaContext.attempt(kernels::close, first);
            kernels = null;
        }
        if (cublas != null) {
            first = CudaContext.attempt(cublas::close, first);
            cublas = null;
        }
        first = CudaContext.attempt(context::close, first);
        if (first != null) {
            throw first;
        }
    }
}
