package io.tributary.kernels;

/**
 * The math a training step needs, on float32 {@link Tensor}s that live where the backend
 * computes (host memory or GPU memory). All matrices are row-major; dimensions are passed
 * explicitly. Implementations must write every element of every output and must not allocate
 * in the steady state (scratch space is kept between calls).
 *
 * <p>A backend is used from one thread at a time.
 */
public interface Backend extends AutoCloseable {

    /** What kind of device computes. */
    enum Kind { CPU, CUDA }

    /** Human-readable description, e.g. {@code cpu (native BLAS: OpenBLAS)}. */
    String description();

    Kind kind();

    // ---- memory -------------------------------------------------------------------------

    /** A new zero-filled tensor of {@code length} elements; {@link #free} gives its memory back. */
    Tensor allocate(int length);

    /**
     * Gives back the memory of a tensor {@link #allocate} returned: device memory goes back to the
     * device at once; host memory is no longer referenced by the backend. The tensor and every slice
     * of it are invalid afterwards. Whoever allocates frees what it no longer uses (a model replaced
     * by a larger one, a trainer actor that stops or restarts): {@link #close} frees the rest, but a
     * backend outlives the models on it.
     *
     * @throws IllegalArgumentException when {@code tensor} is a slice, is another backend's, or was
     *     freed already
     */
    void free(Tensor tensor);

    /** Copies {@code dst.length()} floats from {@code src[srcOffset...]} into {@code dst}. */
    void upload(float[] src, int srcOffset, Tensor dst);

    /** Copies all of {@code src} into {@code dst[dstOffset...]}. */
    void download(Tensor src, float[] dst, int dstOffset);

    /** {@code dst = src}; lengths must match. */
    void copy(Tensor src, Tensor dst);

    /** Sets every element of {@code x} to {@code value}. */
    void fill(Tensor x, float value);

    // ---- BLAS ---------------------------------------------------------------------------

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C} with {@code op(A)} of shape m×k and
     * {@code op(B)} of shape k×n, all row-major. A is stored m×k (or k×m when {@code transA});
     * B is stored k×n (or n×k when {@code transB}); C is m×n. With {@code beta == 0} the old
     * contents of C are ignored (NaN in C does not propagate).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /** {@code y += alpha * x}. */
    void axpy(float alpha, Tensor x, Tensor y);

    /** {@code x *= alpha}. */
    void scale(float alpha, Tensor x);

    // ---- element-wise -------------------------------------------------------------------

    /** {@code out = a + b}; out may alias a or b. */
    void add(Tensor a, Tensor b, Tensor out);

    /** {@code out = a * b} element-wise; out may alias a or b. */
    void mul(Tensor a, Tensor b, Tensor out);

    /** {@code m[r][c] += bias[c]} for an m of {@code rows × cols}. */
    void addRowVector(int rows, int cols, Tensor bias, Tensor m);

    /** {@code out[c] = sum over r of m[r][c]} (the bias gradient of a dense layer). */
    void columnSums(int rows, int cols, Tensor m, Tensor out);

    // ---- activations ----------------------------------------------------------------------

    /** {@code out = max(x, 0)}; out may alias x. */
    void relu(Tensor x, Tensor out);

    /** {@code gradIn = gradOut * (x > 0)} where x is the ReLU's input; gradIn may alias gradOut. */
    void reluBackward(Tensor x, Tensor gradOut, Tensor gradIn);

    /** {@code out = 1 / (1 + exp(-x))}; out may alias x. */
    void sigmoid(Tensor x, Tensor out);

    /** {@code gradIn = gradOut * y * (1 - y)} where y is the sigmoid's output. */
    void sigmoidBackward(Tensor y, Tensor gradOut, Tensor gradIn);

    /** {@code out = tanh(x)}; out may alias x. */
    void tanh(Tensor x, Tensor out);

    /** {@code gradIn = gradOut * (1 - y * y)} where y is the tanh's output. */
    void tanhBackward(Tensor y, Tensor gradOut, Tensor gradIn);

    /** Numerically stable softmax of each row of a {@code rows × cols} matrix. */
    void softmaxRows(int rows, int cols, Tensor x, Tensor out);

    /**
     * Softmax cross-entropy over the rows of {@code logits} against integer class {@code labels}
     * (stored as floats, one per row). Writes the gradient of the mean loss with respect to the
     * logits, {@code (softmax - onehot) / rows}, into {@code gradOut} and returns the mean loss.
     */
    float softmaxCrossEntropy(int rows, int cols, Tensor logits, Tensor labels, Tensor gradOut);

    /** {@code out[r] = argmax over c of x[r][c]} (first maximum), as a float. */
    void argmaxRows(int rows, int cols, Tensor x, Tensor out);

    // ---- reductions ---------------------------------------------------------------------

    /** Sum of all elements. */
    float sum(Tensor x);

    /** Dot product of two tensors of equal length. */
    float dot(Tensor x, Tensor y);

    /** Euclidean norm. */
    float norm2(Tensor x);

    // ---- optimizer steps ----------------------------------------------------------------

    /**
     * SGD with momentum and L2 weight decay: {@code v = momentum*v + (g + wd*p); p -= lr*v}.
     */
    void sgdMomentumStep(Tensor param, Tensor grad, Tensor velocity,
                         float lr, float momentum, float weightDecay);

    /**
     * One Adam step (Kingma and Ba) with bias correction for the 1-based {@code step}:
     * {@code m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; p -= lr * mhat / (sqrt(vhat) + eps)}.
     */
    void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v,
                  float lr, float beta1, float beta2, float eps, int step);

    // ---- transformer layers -------------------------------------------------------------
    // Both backends implement them (a backend that does not says so when called). Ids are token
    // indices stored as floats, like the class labels of softmaxCrossEntropy.

    /** {@code out[r] = table[ids[r]]} for {@code rows} rows of {@code dim} (an embedding lookup). */
    default void gatherRows(int rows, int dim, Tensor table, Tensor ids, Tensor out) {
        throw notHere("gatherRows");
    }

    /** {@code tableGrad[ids[r]] += grad[r]} for {@code rows} rows of {@code dim} (the lookup's backward). */
    default void scatterAddRows(int rows, int dim, Tensor grad, Tensor ids, Tensor tableGrad) {
        throw notHere("scatterAddRows");
    }

    /** {@code x[r] += table[r % period]} for {@code rows} rows of {@code dim} (learned positions). */
    default void addPeriodicRows(int rows, int period, int dim, Tensor table, Tensor x) {
        throw notHere("addPeriodicRows");
    }

    /** {@code out[p] = sum of x[r] over r with r % period == p} (overwrites; the positions' gradient). */
    default void sumPeriodicRows(int rows, int period, int dim, Tensor x, Tensor out) {
        throw notHere("sumPeriodicRows");
    }

    /**
     * LayerNorm of each row: {@code out = (x - mean) * rstd * gamma + beta} with the biased variance
     * and {@code rstd = 1 / sqrt(var + eps)}; writes each row's mean and rstd for the backward pass.
     */
    default void layerNorm(int rows, int dim, float eps, Tensor x, Tensor gamma, Tensor beta, Tensor out,
                           Tensor mean, Tensor rstd) {
        throw notHere("layerNorm");
    }

    /**
     * LayerNorm's backward pass from the saved {@code mean} and {@code rstd}: writes (overwrites)
     * {@code gradIn}, {@code gradGamma} and {@code gradBeta}.
     */
    default void layerNormBackward(int rows, int dim, Tensor x, Tensor mean, Tensor rstd, Tensor gamma,
                                   Tensor gradOut, Tensor gradIn, Tensor gradGamma, Tensor gradBeta) {
        throw notHere("layerNormBackward");
    }

    /** The exact GELU, {@code out = x * Phi(x)} with Phi the standard normal CDF; out may alias x. */
    default void gelu(Tensor x, Tensor out) {
        throw notHere("gelu");
    }

    /** {@code gradIn = gradOut * (Phi(x) + x * phi(x))} where x is the GELU's input; gradIn may alias gradOut. */
    default void geluBackward(Tensor x, Tensor gradOut, Tensor gradIn) {
        throw notHere("geluBackward");
    }

    /**
     * Cuts rows of {@code [q | k | v]} ({@code batch·time} rows of {@code 3·heads·headDim}) into
     * per-head matrices {@code q, k, v} laid out {@code [batch][head][time][headDim]}.
     */
    default void splitHeads(int batch, int time, int heads, int headDim, Tensor qkv, Tensor q, Tensor k, Tensor v) {
        throw notHere("splitHeads");
    }

    /** The inverse of {@link #splitHeads}: writes (overwrites) {@code qkv} from {@code q, k, v}. */
    default void joinHeads(int batch, int time, int heads, int headDim, Tensor q, Tensor k, Tensor v, Tensor qkv) {
        throw notHere("joinHeads");
    }

    /** {@code out[b·time + t][h·headDim + d] = y[b][h][t][d]}: per-head outputs back to rows. */
    default void mergeHeads(int batch, int time, int heads, int headDim, Tensor y, Tensor out) {
        throw notHere("mergeHeads");
    }

    /** The inverse of {@link #mergeHeads}: {@code y[b][h][t][d] = rows[b·time + t][h·headDim + d]}. */
    default void unmergeHeads(int batch, int time, int heads, int headDim, Tensor rows, Tensor y) {
        throw notHere("unmergeHeads");
    }

    /**
     * Causal softmax of {@code blocks} square {@code time × time} score matrices: row i of a block
     * is the softmax of {@code scale · scores[i][0..i]}, and 0 past the diagonal.
     */
    default void causalSoftmax(int blocks, int time, float scale, Tensor scores, Tensor probs) {
        throw notHere("causalSoftmax");
    }

    /**
     * The backward pass of a row softmax of {@code scale · s}: {@code gradScores = scale · p ⊙
     * (gradProbs − rowsum(p ⊙ gradProbs))} (entries where p is 0 get 0).
     */
    default void softmaxBackward(int rows, int cols, float scale, Tensor probs, Tensor gradProbs, Tensor gradScores) {
        throw notHere("softmaxBackward");
    }

    /** What a backend without an operation throws. */
    private UnsupportedOperationException notHere(String op) {
        return new UnsupportedOperationException(op + " is not on the " + description()
                + " backend yet: train this model with backend = cpu");
    }

    /** Waits until all queued work is done (a no-op on the CPU). */
    void synchronize();

    /** Frees the backend's resources; its tensors are invalid afterwards. */
    @Override
    void close();
}
