package io.tributary.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemsetD32;

import jcuda.Pointer;

/**
 * Tributary's own kernels ({@link PtxKernels}) launched on the default stream: grid and block
 * sizes, and the reduction scratch (per-block partial sums, a result slot, per-row losses) that is
 * allocated once and grows only with the largest batch. Shapes and tensors are checked by the
 * caller, and the context is current; every size here is {@code > 0}.
 */
final class KernelLaunches implements AutoCloseable {

    static final int BLOCK = 256;
    static final int ROW_BLOCK_MAX = 256;
    private static final int COLUMN_SUM_ROWS = 8; // as in the .cu
    static final int MAX_PARTIALS = 1024;
    static final int MAX_ROW_GRID = 65_535;

    private final CudaContext context;
    private final int maxElementwiseGrid;
    private PtxKernels kernels;

    // Reduction scratch: per-block partial sums, then [sum, bad-label row as int bits].
    private DevicePointer partials;
    private DevicePointer result;
    private DevicePointer resultFlag;
    private DevicePointer rowLoss;
    private int rowLossCapacity;

    private final float[] hostResult = new float[2];
    private final Pointer hostResultPointer = Pointer.to(hostResult);

    /**
     * Loads the PTX module into the current context (the driver JIT-compiles it) and allocates the
     * reduction scratch.
     *
     * @param multiprocessors the device's SM count: element-wise grids are 32 blocks per SM at most
     */
    KernelLaunches(CudaContext context, int multiprocessors) {
        this.context = context;
        this.maxElementwiseGrid = Math.max(1, multiprocessors) * 32;
        this.kernels = new PtxKernels();
        try {
            partials = context.allocate(MAX_PARTIALS);
            result = context.allocate(2);
            resultFlag = result.plusBytes(Float.BYTES);
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Blocks for an element-wise kernel over {@code n} elements, at most {@link #maxElementwiseGrid}. */
    int grid(int n) {
        return grid(n, maxElementwiseGrid);
    }

    static int grid(int n, int maxGrid) {
        return (int) Math.min((n + (long) BLOCK - 1) / BLOCK, maxGrid);
    }

    /** Threads per row for the row kernels: a power of two from 32 up to {@link #ROW_BLOCK_MAX}. */
    static int rowBlock(int cols) {
        int block = 32;
        while (block < cols && block < ROW_BLOCK_MAX) {
            block <<= 1;
        }
        return block;
    }

    static int rowGrid(int rows) {
        return Math.min(rows, MAX_ROW_GRID);
    }

    // ---- element-wise -------------------------------------------------------------------------------

    void fill(long address, int n, float value) {
        kernels.fill.pointer(0, address).integer(1, n).real(2, value).launch(grid(n), BLOCK, 0);
    }

    void add(CudaTensor a, CudaTensor b, CudaTensor out) {
        binary(kernels.add, a, b, out);
    }

    void mul(CudaTensor a, CudaTensor b, CudaTensor out) {
        binary(kernels.mul, a, b, out);
    }

    void relu(CudaTensor x, CudaTensor out) {
        unary(kernels.relu, x, out);
    }

    void reluBackward(CudaTensor x, CudaTensor gradOut, CudaTensor gradIn) {
        binary(kernels.reluBackward, x, gradOut, gradIn);
    }

    void sigmoid(CudaTensor x, CudaTensor out) {
        unary(kernels.sigmoid, x, out);
    }

    void sigmoidBackward(CudaTensor y, CudaTensor gradOut, CudaTensor gradIn) {
        binary(kernels.sigmoidBackward, y, gradOut, gradIn);
    }

    void tanh(CudaTensor x, CudaTensor out) {
        unary(kernels.tanh, x, out);
    }

    void tanhBackward(CudaTensor y, CudaTensor gradOut, CudaTensor gradIn) {
        binary(kernels.tanhBackward, y, gradOut, gradIn);
    }

    /** Launches a kernel of signature {@code (in1, in2, out, n)} over three equal-length tensors. */
    private void binary(Kernel kernel, CudaTensor a, CudaTensor b, CudaTensor out) {
        int n = a.length();
        kernel.pointer(0, a).pointer(1, b).pointer(2, out).integer(3, n).launch(grid(n), BLOCK, 0);
    }

    /** Launches a kernel of signature {@code (in, out, n)} over two equal-length tensors. */
    private void unary(Kernel kernel, CudaTensor x, CudaTensor out) {
        int n = x.length();
        kernel.pointer(0, x).pointer(1, out).integer(2, n).launch(grid(n), BLOCK, 0);
    }

    // ---- rows and columns ---------------------------------------------------------------------------

    void addRowVector(int rows, int cols, CudaTensor bias, CudaTensor m) {
        int n = rows * cols;
        kernels.addRowVector.pointer(0, m).pointer(1, bias).integer(2, n).integer(3, cols).launch(grid(n), BLOCK, 0);
    }

    void columnSums(int rows, int cols, CudaTensor m, CudaTensor out) {
        int blocks = Math.min((cols + 31) / 32, MAX_ROW_GRID);
        kernels.columnSums.pointer(0, m).pointer(1, out).integer(2, rows).integer(3, cols)
                .launch(blocks, 32, COLUMN_SUM_ROWS, 0);
    }

    void softmaxRows(int rows, int cols, CudaTensor x, CudaTensor out) {
        kernels.softmaxRows.pointer(0, x).pointer(1, out).integer(2, rows).integer(3, cols)
                .launch(rowGrid(rows), rowBlock(cols), 0);
    }

    /** The mean cross-entropy over {@code rows}; the gradient goes to {@code gradOut}. Waits for the result. */
    float softmaxCrossEntropy(int rows, int cols, CudaTensor logits, CudaTensor labels, CudaTensor gradOut) {
        ensureRowLossCapacity(rows);
        cuMemsetD32(resultFlag, -1, 1);
        kernels.softmaxCrossEntropy.pointer(0, logits).pointer(1, labels).pointer(2, gradOut).pointer(3, rowLoss)
                .pointer(4, resultFlag).integer(5, rows).integer(6, cols).real(7, 1f / rows)
                .launch(rowGrid(rows), rowBlock(cols), 0);
        sumInto(rowLoss.address(), rows, result);
        cuMemcpyDtoH(hostResultPointer, result, 2L * Float.BYTES);
        int badRow = Float.floatToRawIntBits(hostResult[1]);
        if (badRow >= 0) {
            float[] label = new float[1];
            cuMemcpyDtoH(Pointer.to(label), labels.pointer.plusBytes((long) badRow * Float.BYTES), Float.BYTES);
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
        DevicePointer grown = context.allocate(capacity);
        if (rowLoss != null) {
            context.free(rowLoss);
        }
        rowLoss = grown;
        rowLossCapacity = capacity;
    }

    void argmaxRows(int rows, int cols, CudaTensor x, CudaTensor out) {
        kernels.argmaxRows.pointer(0, x).pointer(1, out).integer(2, rows).integer(3, cols)
                .launch(rowGrid(rows), rowBlock(cols), 0);
    }

    // ---- reductions ---------------------------------------------------------------------------------

    /** The sum of {@code x}'s elements; waits for the result. */
    float sum(CudaTensor x) {
        sumInto(x.address, x.length(), result);
        cuMemcpyDtoH(hostResultPointer, result, Float.BYTES);
        return hostResult[0];
    }

    /** Writes the sum of {@code n > 0} floats at {@code address} to {@code target}, all on the device. */
    private void sumInto(long address, int n, DevicePointer target) {
        int blocks = grid(n, MAX_PARTIALS);
        if (blocks == 1) {
            kernels.sumPartials.pointer(0, address).pointer(1, target).integer(2, n).launch(1, BLOCK, 0);
            return;
        }
        kernels.sumPartials.pointer(0, address).pointer(1, partials).integer(2, n).launch(blocks, BLOCK, 0);
        kernels.sumPartials.pointer(0, partials).pointer(1, target).integer(2, blocks).launch(1, BLOCK, 0);
    }

    // ---- optimizer steps ----------------------------------------------------------------------------

    void sgdMomentum(CudaTensor param, CudaTensor grad, CudaTensor velocity, float lr, float momentum,
                     float weightDecay) {
        int n = param.length();
        kernels.sgdMomentum.pointer(0, param).pointer(1, grad).pointer(2, velocity).integer(3, n)
                .real(4, lr).real(5, momentum).real(6, weightDecay).launch(grid(n), BLOCK, 0);
    }

    /** One Adam step; {@code step} is 1-based (the bias corrections are computed from it here). */
    void adam(CudaTensor param, CudaTensor grad, CudaTensor m, CudaTensor v, float lr, float beta1, float beta2,
              float eps, int step) {
        int n = param.length();
        float bias1 = (float) (1 - Math.pow(beta1, step));
        float bias2 = (float) (1 - Math.pow(beta2, step));
        kernels.adam.pointer(0, param).pointer(1, grad).pointer(2, m).pointer(3, v).integer(4, n)
                .real(5, lr).real(6, beta1).real(7, beta2).real(8, eps).real(9, bias1).real(10, bias2)
                .launch(grid(n), BLOCK, 0);
    }

    // ---- transformer layers ---------------------------------------------------------------------------

    void gatherRows(int rows, int dim, CudaTensor table, CudaTensor ids, CudaTensor out) {
        ids(kernels.gatherRows, rows, dim, table, ids, out);
    }

    void scatterAddRows(int rows, int dim, CudaTensor grad, CudaTensor ids, CudaTensor tableGrad) {
        ids(kernels.scatterAddRows, rows, dim, grad, ids, tableGrad);
    }

    /** An embedding kernel of signature {@code (a, ids, b, bad_row, rows, dim, table_rows)}; throws on a bad id. */
    private void ids(Kernel kernel, int rows, int dim, CudaTensor a, CudaTensor ids, CudaTensor b) {
        CudaTensor table = kernel == kernels.gatherRows ? a : b;
        int tableRows = table.length() / dim;
        int n = rows * dim;
        cuMemsetD32(resultFlag, -1, 1);
        kernel.pointer(0, a).pointer(1, ids).pointer(2, b).pointer(3, resultFlag).integer(4, rows).integer(5, dim)
                .integer(6, tableRows).launch(grid(n), BLOCK, 0);
        cuMemcpyDtoH(hostResultPointer, result, 2L * Float.BYTES);
        int badRow = Float.floatToRawIntBits(hostResult[1]);
        if (badRow >= 0) {
            float[] id = new float[1];
            cuMemcpyDtoH(Pointer.to(id), ids.pointer.plusBytes((long) badRow * Float.BYTES), Float.BYTES);
            throw new IllegalArgumentException("id " + id[0] + " at row " + badRow + " is not a row of a table of "
                    + tableRows + " rows: the data holds a token the vocabulary does not");
        }
    }

    void addPeriodicRows(int rows, int period, int dim, CudaTensor table, CudaTensor x) {
        int n = rows * dim;
        kernels.addPeriodicRows.pointer(0, table).pointer(1, x).integer(2, n).integer(3, period).integer(4, dim)
                .launch(grid(n), BLOCK, 0);
    }

    void sumPeriodicRows(int rows, int period, int dim, CudaTensor x, CudaTensor out) {
        int n = period * dim;
        kernels.sumPeriodicRows.pointer(0, x).pointer(1, out).integer(2, rows).integer(3, period).integer(4, dim)
                .launch(grid(n), BLOCK, 0);
    }

    void layerNorm(int rows, int dim, float eps, CudaTensor x, CudaTensor gamma, CudaTensor beta, CudaTensor out,
                   CudaTensor mean, CudaTensor rstd) {
        kernels.layerNorm.pointer(0, x).pointer(1, gamma).pointer(2, beta).pointer(3, out).pointer(4, mean)
                .pointer(5, rstd).integer(6, rows).integer(7, dim).real(8, eps).launch(rowGrid(rows), rowBlock(dim), 0);
    }

    void layerNormBackward(int rows, int dim, CudaTensor x, CudaTensor mean, CudaTensor rstd, CudaTensor gamma,
                           CudaTensor gradOut, CudaTensor gradIn, CudaTensor gradGamma, CudaTensor gradBeta) {
        kernels.layerNormBackward.pointer(0, x).pointer(1, mean).pointer(2, rstd).pointer(3, gamma).pointer(4, gradOut)
                .pointer(5, gradIn).integer(6, rows).integer(7, dim).launch(rowGrid(rows), rowBlock(dim), 0);
        kernels.layerNormParamGrads.pointer(0, x).pointer(1, mean).pointer(2, rstd).pointer(3, gradOut)
                .pointer(4, gradGamma).pointer(5, gradBeta).integer(6, rows).integer(7, dim)
                .launch(grid(dim), BLOCK, 0);
    }

    void gelu(CudaTensor x, CudaTensor out) {
        unary(kernels.gelu, x, out);
    }

    void geluBackward(CudaTensor x, CudaTensor gradOut, CudaTensor gradIn) {
        binary(kernels.geluBackward, x, gradOut, gradIn);
    }

    void splitHeads(int batch, int time, int heads, int headDim, CudaTensor qkv, CudaTensor q, CudaTensor k,
                    CudaTensor v, boolean join) {
        int n = batch * time * heads * headDim;
        kernels.splitHeads.pointer(0, qkv).pointer(1, q).pointer(2, k).pointer(3, v).integer(4, batch).integer(5, time)
                .integer(6, heads).integer(7, headDim).integer(8, join ? 1 : 0).launch(grid(n), BLOCK, 0);
    }

    void mergeHeads(int batch, int time, int heads, int headDim, CudaTensor y, CudaTensor rows, boolean merge) {
        int n = batch * time * heads * headDim;
        kernels.mergeHeads.pointer(0, y).pointer(1, rows).integer(2, batch).integer(3, time).integer(4, heads)
                .integer(5, headDim).integer(6, merge ? 1 : 0).launch(grid(n), BLOCK, 0);
    }

    void causalSoftmax(int blocks, int time, float scale, CudaTensor scores, CudaTensor probs) {
        int rows = blocks * time;
        kernels.causalSoftmax.pointer(0, scores).pointer(1, probs).integer(2, rows).integer(3, time).real(4, scale)
                .launch(rowGrid(rows), rowBlock(time), 0);
    }

    void softmaxBackward(int rows, int cols, float scale, CudaTensor probs, CudaTensor gradProbs, CudaTensor gradScores) {
        kernels.softmaxBackward.pointer(0, probs).pointer(1, gradProbs).pointer(2, gradScores).integer(3, rows)
                .integer(4, cols).real(5, scale).launch(rowGrid(rows), rowBlock(cols), 0);
    }

    /** Frees the scratch and unloads the module; throws the first failure, the rest suppressed. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (DevicePointer p : new DevicePointer[] {partials, result, rowLoss}) {
            if (p != null) {
                first = CudaContext.attempt(() -> context.free(p), first);
            }
        }
        partials = result = resultFlag = rowLoss = null;
        rowLossCapacity = 0;
        if (kernels != null) {
            first = CudaContext.attempt(kernels::close, first);
            kernels = null;
        }
        if (first != null) {
            throw first;
        }
    }
}
