package io.tributary.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;
import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDestroy;
import static jcuda.jcublas.JCublas2.cublasGetVersion;
import static jcuda.jcublas.JCublas2.cublasSaxpy;
import static jcuda.jcublas.JCublas2.cublasSdot;
import static jcuda.jcublas.JCublas2.cublasSetMathMode;
import static jcuda.jcublas.JCublas2.cublasSetPointerMode;
import static jcuda.jcublas.JCublas2.cublasSgemm;
import static jcuda.jcublas.JCublas2.cublasSscal;

import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendUnavailableException;
import io.tributary.kernels.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasPointerMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPU backend: GEMM and BLAS-1 through JCublas2, everything else through Tributary's own
 * kernels (the PTX built from {@code src/main/cuda/tributary_kernels.cu}). It works in the
 * device's primary context, which the CUDA runtime behind cuBLAS shares, and queues all work on
 * the default stream, so operations run in call order; results that return a float wait for it.
 *
 * <p>Kernel parameter lists, host scalars and reduction scratch are allocated once, so the
 * steady state allocates nothing on the device and little on the heap. Not thread-safe (one
 * thread at a time, as {@link Backend} says), but the thread may change between calls.
 */
public final class CudaBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);

    private static final int BLOCK = 256;
    private static final int ROW_BLOCK_MAX = 256;
    private static final int COLUMN_SUM_ROWS = 8; // as in the .cu
    private static final int MAX_PARTIALS = 1024;
    private static final int MAX_ROW_GRID = 65_535;

    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final cublasHandle cublas = new cublasHandle();
    private final List<DevicePointer> allocations = new ArrayList<>();
    private boolean contextRetained;
    private boolean cublasCreated;
    private PtxKernels kernels;
    private Thread contextThread;
    private boolean closed;
    private int maxElementwiseGrid;
    private String description;

    // Reduction scratch: per-block partial sums, then [sum, bad-label row as int bits].
    private DevicePointer partials;
    private DevicePointer result;
    private DevicePointer resultFlag;
    private DevicePointer rowLoss;
    private int rowLossCapacity;

    // Host-side scalars for cuBLAS (host pointer mode) and results, wrapped once.
    private final float[] alpha = new float[1];
    private final float[] beta = new float[1];
    private final float[] hostResult = new float[2];
    private final Pointer alphaPointer = Pointer.to(alpha);
    private final Pointer betaPointer = Pointer.to(beta);
    private final Pointer hostResultPointer = Pointer.to(hostResult);

    private CudaBackend(int ordinal) {
        this.ordinal = ordinal;
        String stage = "cuInit";
        try {
            cuInit(0);
            stage = "cuDeviceGetCount";
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                throw new BackendUnavailableException("no CUDA device found (the driver sees none); check "
                        + "nvidia-smi and CUDA_VISIBLE_DEVICES, or use --backend cpu");
            }
            if (ordinal >= count[0]) {
                throw new BackendUnavailableException("CUDA device " + ordinal + " asked for, but only " + count[0]
                        + " visible (ordinals 0.." + (count[0] - 1) + "); pick one of those or check CUDA_VISIBLE_DEVICES");
            }
            stage = "cuDeviceGet";
            cuDeviceGet(device, ordinal);
            stage = "cuDevicePrimaryCtxRetain";
            cuDevicePrimaryCtxRetain(context, device);
            contextRetained = true;
            stage = "cuCtxSetCurrent";
            cuCtxSetCurrent(context);
            contextThread = Thread.currentThread();
            stage = "cuModuleLoadData";
            kernels = new PtxKernels();
            stage = "cublasCreate";
            cublasCreate(cublas);
            cublasCreated = true;
            cublasSetPointerMode(cublas, cublasPointerMode.CUBLAS_POINTER_MODE_HOST);
            // Full FP32 SGEMM: TF32 tensor-core math would miss the contract's error bounds.
            cublasSetMathMode(cublas, cublasMath.CUBLAS_DEFAULT_MATH);
            stage = "cuMemAlloc";
            partials = deviceAlloc(MAX_PARTIALS);
            result = deviceAlloc(2);
            resultFlag = result.plusBytes(Float.BYTES);
            stage = "cuDeviceGetAttribute";
            int sms = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            maxElementwiseGrid = Math.max(1, sms) * 32;
            description = describe(sms);
        } catch (RuntimeException e) {
            RuntimeException failure = e instanceof CudaException ce
                    ? new BackendUnavailableException(CudaNatives.initFailureReason(ce, stage, ordinal), ce)
                    : e;
            try {
                release();
            } catch (RuntimeException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
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
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int nameLength = 0;
        while (nameLength < name.length && name[nameLength] != 0) {
            nameLength++;
        }
        int major = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        int minor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        int[] driver = new int[1];
        cuDriverGetVersion(driver);
        int[] cublasVersion = new int[1];
        cublasGetVersion(cublas, cublasVersion);
        return "cuda (device " + ordinal + ": " + new String(name, 0, nameLength, StandardCharsets.UTF_8)
                + ", sm_" + major + minor + ", " + sms + " SMs; driver CUDA " + driver[0] / 1000 + "."
                + driver[0] % 1000 / 10 + ", cuBLAS " + cublasVersion[0] / 10000 + "." + cublasVersion[0] % 10000 / 100
                + "." + cublasVersion[0] % 100 + ")";
    }

    private int attribute(int attribute) {
        int[] value = new int[1];
        cuDeviceGetAttribute(value, attribute, device);
        return value[0];
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public Kind kind() {
        return Kind.CUDA;
    }

    // ---- plumbing ---------------------------------------------------------------------------------

    /** Checks the backend is open and makes its context current on the calling thread. */
    private void enter() {
        if (closed) {
            throw new IllegalStateException("the CUDA backend is closed; its tensors are gone");
        }
        Thread current = Thread.currentThread();
        if (current != contextThread) {
            cuCtxSetCurrent(context);
            contextThread = current;
        }
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

    private DevicePointer deviceAlloc(int elements) {
        DevicePointer p = new DevicePointer();
        long bytes = Math.max(1L, elements) * Float.BYTES;
        try {
            cuMemAlloc(p, bytes);
        } catch (CudaException e) {
            throw new IllegalStateException("cannot allocate " + elements + " floats (" + (bytes >> 20)
                    + " MiB) on CUDA device " + ordinal + ": " + e.getMessage(), e);
        }
        return p;
    }

    private int grid(int n) {
        return (int) Math.min((n + (long) BLOCK - 1) / BLOCK, maxElementwiseGrid);
    }

    /** Threads per row for the row kernels: a power of two from 32 up to {@link #ROW_BLOCK_MAX}. */
    private static int rowBlock(int cols) {
        int block = 32;
        while (block < cols && block < ROW_BLOCK_MAX) {
            block <<= 1;
        }
        return block;
    }

    private static int rowGrid(int rows) {
        return Math.min(rows, MAX_ROW_GRID);
    }

    // ---- memory -----------------------------------------------------------------------------------

    @Override
    public Tensor allocate(int length) {
        if (length < 0) {
            throw new IllegalArgumentException("tensor length must be >= 0, got " + length);
        }
        enter();
        DevicePointer p = deviceAlloc(length);
        allocations.add(p);
        cuMemsetD32(p, 0, Math.max(1, length));
        return new CudaTensor(this, p, length, 0, length);
    }

    @Override
    public void upload(float[] src, int srcOffset, Tensor dst) {
        CudaTensor d = t(dst);
        Objects.checkFromIndexSize(srcOffset, d.length(), src.length);
        if (d.length() == 0) {
            return;
        }
        enter();
        cuMemcpyHtoD(d.pointer, Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES),
                (long) d.length() * Float.BYTES);
    }

    @Override
    public void download(Tensor src, float[] dst, int dstOffset) {
        CudaTensor s = t(src);
        Objects.checkFromIndexSize(dstOffset, s.length(), dst.length);
        if (s.length() == 0) {
            return;
        }
        enter();
        cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES), s.pointer,
                (long) s.length() * Float.BYTES);
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
        cuMemcpyDtoD(d.pointer, s.pointer, (long) s.length() * Float.BYTES);
    }

    @Override
    public void fill(Tensor x, float value) {
        CudaTensor c = t(x);
        fill(c.address, c.length(), value);
    }

    private void fill(long address, int n, float value) {
        if (n == 0) {
            return;
        }
        enter();
        kernels.fill.pointer(0, address).integer(1, n).real(2, value).launch(grid(n), BLOCK, 0);
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
                fill(tc.address, m * n, 0f);
            } else {
                this.alpha[0] = beta;
                cublasSscal(cublas, m * n, alphaPointer, tc.pointer, 1);
            }
            return;
        }
        this.alpha[0] = alpha;
        this.beta[0] = beta; // cuBLAS does not read C when beta == 0, so NaN there cannot leak
        // Row-major C = op(A)·op(B) is column-major C^T = op(B)^T·op(A)^T: swap the operands.
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        cublasSgemm(cublas, op(transB), op(transA), n, m, k, alphaPointer, tb.pointer, ldb, ta.pointer, lda,
                betaPointer, tc.pointer, n);
    }

    private static int op(boolean transpose) {
        return transpose ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        sameLength(x, y);
        CudaTensor tx = t(x), ty = t(y);
        if (tx.length() == 0) {
            return;
        }
        enter();
        this.alpha[0] = alpha;
        cublasSaxpy(cublas, tx.length(), alphaPointer, tx.pointer, 1, ty.pointer, 1);
    }

    @Override
    public void scale(float alpha, Tensor x) {
        CudaTensor tx = t(x);
        if (tx.length() == 0) {
            return;
        }
        enter();
        this.alpha[0] = alpha;
        cublasSscal(cublas, tx.length(), alphaPointer, tx.pointer, 1);
    }

    // ---- element-wise -------------------------------------------------------------------------------

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        binary(kernels.add, a, b, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        binary(kernels.mul, a, b, out);
    }

    /** Launches a kernel of signature {@code (in1, in2, out, n)} over three equal-length tensors. */
    private void binary(Kernel kernel, Tensor a, Tensor b, Tensor out) {
        sameLength(a, b);
        sameLength(a, out);
        CudaTensor ta = t(a), tb = t(b), to = t(out);
        int n = ta.length();
        if (n == 0) {
            return;
        }
        enter();
        kernel.pointer(0, ta).pointer(1, tb).pointer(2, to).integer(3, n).launch(grid(n), BLOCK, 0);
    }

    /** Launches a kernel of signature {@code (in, out, n)} over two equal-length tensors. */
    private void unary(Kernel kernel, Tensor x, Tensor out) {
        sameLength(x, out);
        CudaTensor tx = t(x), to = t(out);
        int n = tx.length();
        if (n == 0) {
            return;
        }
        enter();
        kernel.pointer(0, tx).pointer(1, to).integer(2, n).launch(grid(n), BLOCK, 0);
    }

    @Override
    public void addRowVector(int rows, int cols, Tensor bias, Tensor m) {
        dims(rows, cols, "addRowVector");
        need(bias, cols, "addRowVector bias");
        need(m, (long) rows * cols, "addRowVector matrix");
        CudaTensor tb = t(bias), tm = t(m);
        int n = rows * cols;
        if (n == 0) {
            return;
        }
        enter();
        kernels.addRowVector.pointer(0, tm).pointer(1, tb).integer(2, n).integer(3, cols).launch(grid(n), BLOCK, 0);
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
        int blocks = Math.min((cols + 31) / 32, MAX_ROW_GRID);
        kernels.columnSums.pointer(0, tm).pointer(1, to).integer(2, rows).integer(3, cols)
                .launch(blocks, 32, COLUMN_SUM_ROWS, 0);
    }

    // ---- activations ----------------------------------------------------------------------------------

    @Override
    public void relu(Tensor x, Tensor out) {
        unary(kernels.relu, x, out);
    }

    @Override
    public void reluBackward(Tensor x, Tensor gradOut, Tensor gradIn) {
        binary(kernels.reluBackward, x, gradOut, gradIn);
    }

    @Override
    public void sigmoid(Tensor x, Tensor out) {
        unary(kernels.sigmoid, x, out);
    }

    @Override
    public void sigmoidBackward(Tensor y, Tensor gradOut, Tensor gradIn) {
        binary(kernels.sigmoidBackward, y, gradOut, gradIn);
    }

    @Override
    public void tanh(Tensor x, Tensor out) {
        unary(kernels.tanh, x, out);
    }

    @Override
    public void tanhBackward(Tensor y, Tensor gradOut, Tensor gradIn) {
        binary(kernels.tanhBackward, y, gradOut, gradIn);
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
        kernels.softmaxRows.pointer(0, tx).pointer(1, to).integer(2, rows).integer(3, cols)
                .launch(rowGrid(rows), rowBlock(cols), 0);
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
        ensureRowLossCapacity(rows);
        cuMemsetD32(resultFlag, -1, 1);
        kernels.softmaxCrossEntropy.pointer(0, tx).pointer(1, ty).pointer(2, tg).pointer(3, rowLoss)
                .pointer(4, resultFlag).integer(5, rows).integer(6, cols).real(7, 1f / rows)
                .launch(rowGrid(rows), rowBlock(cols), 0);
        sumInto(rowLoss.address(), rows, result);
        cuMemcpyDtoH(hostResultPointer, result, 2L * Float.BYTES);
        int badRow = Float.floatToRawIntBits(hostResult[1]);
        if (badRow >= 0) {
            float[] label = new float[1];
            cuMemcpyDtoH(Pointer.to(label), ty.pointer.plusBytes((long) badRow * Float.BYTES), Float.BYTES);
            throw new IllegalArgumentException("label " + label[0] + " of row " + badRow + " is outside 0.."
                    + (cols - 1));
        }
        return hostResult[0] / rows;
    }

    private void ensureRowLossCapacity(int rows) {
        if (rows <= rowLossCapacity) {
            return;
        }
        int capacity = (int) Math.min(Integer.MAX_VALUE, Math.max(rows, 2L * rowLossCapacity));
        DevicePointer grown = deviceAlloc(capacity);
        if (rowLoss != null) {
            cuMemFree(rowLoss);
        }
        rowLoss = grown;
        rowLossCapacity = capacity;
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
        kernels.argmaxRows.pointer(0, tx).pointer(1, to).integer(2, rows).integer(3, cols)
                .launch(rowGrid(rows), rowBlock(cols), 0);
    }

    // ---- reductions -----------------------------------------------------------------------------------

    @Override
    public float sum(Tensor x) {
        CudaTensor tx = t(x);
        if (tx.length() == 0) {
            return 0f;
        }
        enter();
        sumInto(tx.address, tx.length(), result);
        cuMemcpyDtoH(hostResultPointer, result, Float.BYTES);
        return hostResult[0];
    }

    /** Writes the sum of {@code n > 0} floats at {@code address} to {@code target}, all on the device. */
    private void sumInto(long address, int n, DevicePointer target) {
        int blocks = (int) Math.min((n + (long) BLOCK - 1) / BLOCK, MAX_PARTIALS);
        if (blocks == 1) {
            kernels.sumPartials.pointer(0, address).pointer(1, target).integer(2, n).launch(1, BLOCK, 0);
            return;
        }
        kernels.sumPartials.pointer(0, address).pointer(1, partials).integer(2, n).launch(blocks, BLOCK, 0);
        kernels.sumPartials.pointer(0, partials).pointer(1, target).integer(2, blocks).launch(1, BLOCK, 0);
    }

    @Override
    public float dot(Tensor x, Tensor y) {
        sameLength(x, y);
        CudaTensor tx = t(x), ty = t(y);
        if (tx.length() == 0) {
            return 0f;
        }
        enter();
        cublasSdot(cublas, tx.length(), tx.pointer, 1, ty.pointer, 1, hostResultPointer); // host mode: waits
        return hostResult[0];
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
        sameLength(param, grad);
        sameLength(param, velocity);
        CudaTensor p = t(param), g = t(grad), v = t(velocity);
        int n = p.length();
        if (n == 0) {
            return;
        }
        enter();
        kernels.sgdMomentum.pointer(0, p).pointer(1, g).pointer(2, v).integer(3, n)
                .real(4, lr).real(5, momentum).real(6, weightDecay).launch(grid(n), BLOCK, 0);
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                         float eps, int step) {
        if (step < 1) {
            throw new IllegalArgumentException("Adam step count is 1-based, got " + step);
        }
        sameLength(param, grad);
        sameLength(param, m);
        sameLength(param, v);
        CudaTensor tp = t(param), tg = t(grad), tm = t(m), tv = t(v);
        int n = tp.length();
        if (n == 0) {
            return;
        }
        enter();
        float bias1 = (float) (1 - Math.pow(beta1, step));
        float bias2 = (float) (1 - Math.pow(beta2, step));
        kernels.adam.pointer(0, tp).pointer(1, tg).pointer(2, tm).pointer(3, tv).integer(4, n)
                .real(5, lr).real(6, beta1).real(7, beta2).real(8, eps).real(9, bias1).real(10, bias2)
                .launch(grid(n), BLOCK, 0);
    }

    @Override
    public void synchronize() {
        enter();
        cuCtxSynchronize();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (contextRetained) {
            cuCtxSetCurrent(context);
        }
        closed = true;
        release();
    }

    /** Frees whatever the constructor got as far as creating; throws the first failure, the rest suppressed. */
    private void release() {
        RuntimeException first = null;
        for (DevicePointer p : allocations) {
            first = attempt(() -> cuMemFree(p), first);
        }
        allocations.clear();
        for (DevicePointer p : new DevicePointer[] {partials, result, rowLoss}) {
            if (p != null) {
                first = attempt(() -> cuMemFree(p), first);
            }
        }
        partials = result = resultFlag = rowLoss = null;
        rowLossCapacity = 0;
        if (kernels != null) {
            first = attempt(kernels::close, first);
            kernels = null;
        }
        if (cublasCreated) {
            cublasCreated = false;
            first = attempt(() -> cublasDestroy(cublas), first);
        }
        if (contextRetained) {
            contextRetained = false;
            first = attempt(() -> cuDevicePrimaryCtxRelease(device), first);
        }
        if (first != null) {
            throw first;
        }
    }

    private static RuntimeException attempt(Runnable step, RuntimeException first) {
        try {
            step.run();
            return first;
        } catch (RuntimeException e) {
            if (first == null) {
                return e;
            }
            first.addSuppressed(e);
            return first;
        }
    }
}
