package io.tributary.kernels.cpu;

/**
 * The CPU backend's row-wise operations on row-major {@code rows × cols} matrices in host tensors:
 * softmax, softmax with cross-entropy and its gradient, and argmax. Scalar loops (exp and log in
 * double precision); shapes are checked by the caller.
 */
final class SoftmaxRows {

    private SoftmaxRows() {
    }

    static void softmax(int rows, int cols, CpuTensor x, CpuTensor out) {
        for (int r = 0; r < rows; r++) {
            softmaxRow(x.data, x.offset + r * cols, out.data, out.offset + r * cols, cols);
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

    /**
     * The mean cross-entropy of the rows' softmax against the class indices in {@code labels}; the
     * gradient with respect to the logits, already divided by {@code rows}, goes to {@code grad}.
     *
     * @throws IllegalArgumentException naming the row when a label is outside {@code 0..cols-1}
     */
    static float crossEntropy(int rows, int cols, CpuTensor logits, CpuTensor labels, CpuTensor grad) {
        float[] x = logits.data;
        float[] g = grad.data;
        double loss = 0;
        float invRows = 1f / rows;
        for (int r = 0; r < rows; r++) {
            int xo = logits.offset + r * cols;
            int go = grad.offset + r * cols;
            int label = (int) labels.data[labels.offset + r];
            if (label < 0 || label >= cols) {
                throw new IllegalArgumentException("label " + label + " of row " + r + " is outside 0.." + (cols - 1));
            }
            double logZ = softmaxRow(x, xo, g, go, cols);
            loss += logZ - x[xo + label];
            for (int c = 0; c < cols; c++) {
                g[go + c] *= invRows;
            }
            g[go + label] -= invRows;
        }
        return (float) (loss / rows);
    }

    /** Writes each row's index of its largest element (the first of equals) to {@code out}. */
    static void argmax(int rows, int cols, CpuTensor x, CpuTensor out) {
        for (int r = 0; r < rows; r++) {
            int row = x.offset + r * cols;
            int best = 0;
            for (int c = 1; c < cols; c++) {
                if (x.data[row + c] > x.data[row + best]) {
                    best = c;
                }
            }
            out.data[out.offset + r] = best;
        }
    }
}
