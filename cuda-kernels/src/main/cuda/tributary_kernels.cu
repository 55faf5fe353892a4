// Tributary's own device kernels: everything the Backend interface needs that cuBLAS does not
// provide. Compiled to PTX by cuda-kernels/build-ptx.sh; the PTX is committed and loaded by
// io.tributary.kernels.cuda.CudaBackend through the driver API (cuModuleLoadData).
//
// Conventions shared with the Java side (keep them in sync with PtxKernels.java):
//  - every entry point is extern "C" so its PTX name is the plain function name;
//  - sizes are int; element-wise kernels use grid-stride loops so any grid size is correct;
//  - row kernels (softmax, cross-entropy, argmax) use one block per row, looping over rows
//    with a block stride, and a blockDim that is a multiple of 32 and at most 1024;
//  - float32 arithmetic with the accurate libm functions (no fast-math), so results stay
//    within a few ulp of a float64 reference.

#include <float.h>
#include <limits.h>

#define FULL_MASK 0xffffffffu

// Visits i = global thread index, then steps by the whole grid. The index is unsigned so that the
// last step cannot overflow for n close to INT_MAX.
#define GRID_STRIDE_LOOP(i, n) \
    for (unsigned int i = blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned int) (n); \
         i += blockDim.x * gridDim.x)

// ---- block reductions ------------------------------------------------------------------------
// Each block reduces in two steps: warp shuffles, then one warp over the per-warp results kept in
// shared memory. All threads of the block receive the result. Callers must not reuse the shared
// scratch before a __syncthreads() that follows the previous reduction; these helpers end with one.

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(FULL_MASK, v, offset);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, offset));
    }
    return v;
}

__device__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : 0.0f;
        w = warp_sum(w);
        if (lane == 0) {
            scratch[32] = w;
        }
    }
    __syncthreads();
    float result = scratch[32];
    __syncthreads();
    return result;
}

__device__ float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : -INFINITY;
        w = warp_max(w);
        if (lane == 0) {
            scratch[32] = w;
        }
    }
    __syncthreads();
    float result = scratch[32];
    __syncthreads();
    return result;
}

// ---- memory and element-wise -----------------------------------------------------------------

extern "C" __global__ void fill_f32(float* x, int n, float value) {
    GRID_STRIDE_LOOP(i, n) {
        x[i] = value;
    }
}

extern "C" __global__ void add_f32(const float* a, const float* b, float* out, int n) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = a[i] + b[i];
    }
}

extern "C" __global__ void mul_f32(const float* a, const float* b, float* out, int n) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = a[i] * b[i];
    }
}

// m[r][c] += bias[c] for a row-major rows x cols matrix of n = rows * cols elements.
extern "C" __global__ void add_row_vector_f32(float* m, const float* bias, int n, int cols) {
    GRID_STRIDE_LOOP(i, n) {
        m[i] += bias[i % (unsigned int) cols];
    }
}

// out[c] = sum over r of m[r][c]. Launched with blockDim (32, COLUMN_SUM_ROWS) and
// gridDim.x = ceil(cols / 32): the 32 threads of a warp read 32 neighbouring columns of one row
// (coalesced), the COLUMN_SUM_ROWS warps split the rows, and shared memory combines them in a
// fixed order so the result is deterministic.
#define COLUMN_SUM_ROWS 8
extern "C" __global__ void column_sums_f32(const float* m, float* out, int rows, int cols) {
    __shared__ float partial[COLUMN_SUM_ROWS][33];
    for (int c0 = blockIdx.x * 32; c0 < cols; c0 += gridDim.x * 32) {
        const int c = c0 + threadIdx.x;
        float acc = 0.0f;
        if (c < cols) {
            for (int r = threadIdx.y; r < rows; r += COLUMN_SUM_ROWS) {
                acc += m[(size_t) r * cols + c];
            }
        }
        partial[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && c < cols) {
            float total = 0.0f;
            for (int k = 0; k < COLUMN_SUM_ROWS; k++) {
                total += partial[k][threadIdx.x];
            }
            out[c] = total;
        }
        __syncthreads();
    }
}

// ---- activations -----------------------------------------------------------------------------

extern "C" __global__ void relu_f32(const float* x, float* out, int n) {
    GRID_STRIDE_LOOP(i, n) {
        const float v = x[i];
        out[i] = v > 0.0f ? v : 0.0f;
    }
}

extern "C" __global__ void relu_backward_f32(const float* x, const float* grad_out, float* grad_in, int n) {
    GRID_STRIDE_LOOP(i, n) {
        grad_in[i] = x[i] > 0.0f ? grad_out[i] : 0.0f;
    }
}

extern "C" __global__ void sigmoid_f32(const float* x, float* out, int n) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = 1.0f / (1.0f + expf(-x[i]));
    }
}

extern "C" __global__ void sigmoid_backward_f32(const float* y, const float* grad_out, float* grad_in, int n) {
    GRID_STRIDE_LOOP(i, n) {
        const float s = y[i];
        grad_in[i] = grad_out[i] * s * (1.0f - s);
    }
}

extern "C" __global__ void tanh_f32(const float* x, float* out, int n) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = tanhf(x[i]);
    }
}

extern "C" __global__ void tanh_backward_f32(const float* y, const float* grad_out, float* grad_in, int n) {
    GRID_STRIDE_LOOP(i, n) {
        const float t = y[i];
        grad_in[i] = grad_out[i] * (1.0f - t * t);
    }
}

// ---- row-wise kernels ------------------------------------------------------------------------

// Numerically stable softmax of each row: exp(x - rowmax) / sum(exp(x - rowmax)).
extern "C" __global__ void softmax_rows_f32(const float* x, float* out, int rows, int cols) {
    __shared__ float scratch[33];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + (size_t) r * cols;
        float* dst = out + (size_t) r * cols;
        float local_max = -INFINITY;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            local_max = fmaxf(local_max, row[c]);
        }
        const float row_max = block_max(local_max, scratch);
        float local_sum = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            const float e = expf(row[c] - row_max);
            dst[c] = e;
            local_sum += e;
        }
        const float inv_sum = 1.0f / block_sum(local_sum, scratch);
        // each thread rescales exactly the elements it wrote above, so no barrier is needed
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            dst[c] *= inv_sum;
        }
    }
}

// Softmax cross-entropy against class indices stored as floats. For each row r:
//   loss[r] = log(sum exp(x - max)) - (x[label] - max)
//   grad[r][c] = (softmax[r][c] - (c == label)) * inv_rows
// A label that is NaN or does not truncate to a class in [0, cols) gives loss[r] = NaN and no
// one-hot term, and records the largest such row in *bad_row (set to -1 by the host beforehand);
// the host then throws, naming the row.
extern "C" __global__ void softmax_xent_f32(const float* logits, const float* labels, float* grad,
                                            float* loss, int* bad_row, int rows, int cols,
                                            float inv_rows) {
    __shared__ float scratch[33];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = logits + (size_t) r * cols;
        float* dst = grad + (size_t) r * cols;
        const float label_value = labels[r];
        // truncation toward zero, as Java's (int) cast in the CPU backend; NaN is never a class
        const bool valid = label_value > -1.0f && label_value < (float) cols;
        const int label = valid ? (int) label_value : -1;

        float local_max = -INFINITY;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            local_max = fmaxf(local_max, row[c]);
        }
        const float row_max = block_max(local_max, scratch);
        float local_sum = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            const float e = expf(row[c] - row_max);
            dst[c] = e;
            local_sum += e;
        }
        const float sum = block_sum(local_sum, scratch);
        const float scale = inv_rows / sum;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            dst[c] = dst[c] * scale - (c == label ? inv_rows : 0.0f);
        }
        if (threadIdx.x == 0) {
            if (valid) {
                loss[r] = logf(sum) - (row[label] - row_max);
            } else {
                loss[r] = __int_as_float(0x7fc00000);
                atomicMax(bad_row, r);
            }
        }
    }
}

// Whether candidate (v, i) beats the current best (best_v, best_i); INT_MAX marks "no candidate".
// Ties keep the smaller column index.
__device__ __forceinline__ bool argmax_beats(float v, int i, float best_v, int best_i) {
    if (i == INT_MAX) {
        return false;
    }
    return best_i == INT_MAX || v > best_v || (v == best_v && i < best_i);
}

// out[r] = index of the first maximum of row r, as a float: the same answer as a left-to-right
// scan that starts at column 0 and moves on only for a strictly greater value. NaN never wins,
// except that a NaN in column 0 makes the answer 0 (nothing compares greater than it).
extern "C" __global__ void argmax_rows_f32(const float* x, float* out, int rows, int cols) {
    __shared__ float warp_value[32];
    __shared__ int warp_index[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + (size_t) r * cols;
        float value = -INFINITY;
        int index = INT_MAX;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            const float v = row[c];
            if (!isnan(v) && argmax_beats(v, c, value, index)) {
                value = v;
                index = c;
            }
        }
        for (int offset = 16; offset > 0; offset >>= 1) {
            const float other_value = __shfl_xor_sync(FULL_MASK, value, offset);
            const int other_index = __shfl_xor_sync(FULL_MASK, index, offset);
            if (argmax_beats(other_value, other_index, value, index)) {
                value = other_value;
                index = other_index;
            }
        }
        if (lane == 0) {
            warp_value[warp] = value;
            warp_index[warp] = index;
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            float best_v = warp_value[0];
            int best_i = warp_index[0];
            for (int w = 1; w < warps; w++) {
                if (argmax_beats(warp_value[w], warp_index[w], best_v, best_i)) {
                    best_v = warp_value[w];
                    best_i = warp_index[w];
                }
            }
            const bool first_is_nan = cols > 0 && isnan(row[0]);
            out[r] = (float) (best_i == INT_MAX || first_is_nan ? 0 : best_i);
        }
        __syncthreads();
    }
}

// ---- reductions ------------------------------------------------------------------------------

// partials[blockIdx.x] = sum of the elements this block visits. The host launches it twice: over
// the input with many blocks, then over the partials with one block, so the total never leaves
// the device until the final 4-byte copy. NaN propagates through the additions.
extern "C" __global__ void sum_partials_f32(const float* x, float* partials, int n) {
    __shared__ float scratch[33];
    float acc = 0.0f;
    GRID_STRIDE_LOOP(i, n) {
        acc += x[i];
    }
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = acc;
    }
}

// ---- optimizer steps -------------------------------------------------------------------------

// v = momentum * v + (g + weight_decay * p); p -= lr * v
extern "C" __global__ void sgd_momentum_f32(float* param, const float* grad, float* velocity, int n,
                                            float lr, float momentum, float weight_decay) {
    GRID_STRIDE_LOOP(i, n) {
        const float p = param[i];
        const float v = momentum * velocity[i] + (grad[i] + weight_decay * p);
        velocity[i] = v;
        param[i] = p - lr * v;
    }
}

// Adam with bias correction; the host passes bias1 = 1 - beta1^step and bias2 = 1 - beta2^step.
extern "C" __global__ void adam_f32(float* param, const float* grad, float* m, float* v, int n,
                                    float lr, float beta1, float beta2, float eps,
                                    float bias1, float bias2) {
    GRID_STRIDE_LOOP(i, n) {
        const float g = grad[i];
        const float m1 = beta1 * m[i] + (1.0f - beta1) * g;
        const float v1 = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = m1;
        v[i] = v1;
        param[i] -= lr * (m1 / bias1) / (sqrtf(v1 / bias2) + eps);
    }
}

// ---- transformer layers ----------------------------------------------------------------------

// Whether id (a token index stored as a float) names a row of a table of table_rows rows.
__device__ __forceinline__ bool valid_id(float id, int table_rows) {
    return id >= 0.0f && id < (float) table_rows && id == truncf(id);
}

// out[r] = table[ids[r]] for rows x dim; a bad id writes NaN and records its row in *bad_row.
extern "C" __global__ void gather_rows_f32(const float* table, const float* ids, float* out, int* bad_row,
                                           int rows, int dim, int table_rows) {
    GRID_STRIDE_LOOP(i, rows * dim) {
        const int r = i / dim;
        const float id = ids[r];
        if (valid_id(id, table_rows)) {
            out[i] = table[(size_t) id * dim + i % dim];
        } else {
            out[i] = __int_as_float(0x7fc00000);
            atomicMax(bad_row, r);
        }
    }
}

// table_grad[ids[r]] += grad[r] (atomically: rows with one id add up in any order); a bad id adds
// nothing and records its row in *bad_row.
extern "C" __global__ void scatter_add_rows_f32(const float* grad, const float* ids, float* table_grad, int* bad_row,
                                                int rows, int dim, int table_rows) {
    GRID_STRIDE_LOOP(i, rows * dim) {
        const int r = i / dim;
        const float id = ids[r];
        if (valid_id(id, table_rows)) {
            atomicAdd(&table_grad[(size_t) id * dim + i % dim], grad[i]);
        } else {
            atomicMax(bad_row, r);
        }
    }
}

// x[r] += table[r % period] for rows x dim (n = rows * dim).
extern "C" __global__ void add_periodic_rows_f32(const float* table, float* x, int n, int period, int dim) {
    GRID_STRIDE_LOOP(i, n) {
        const int r = i / dim;
        x[i] += table[(size_t) (r % period) * dim + i % dim];
    }
}

// out[p] = sum of x[r] over r % period == p, one thread per output element, rows in order.
extern "C" __global__ void sum_periodic_rows_f32(const float* x, float* out, int rows, int period, int dim) {
    GRID_STRIDE_LOOP(j, period * dim) {
        const int p = j / dim;
        const int c = j % dim;
        float acc = 0.0f;
        for (int r = p; r < rows; r += period) {
            acc += x[(size_t) r * dim + c];
        }
        out[j] = acc;
    }
}

// LayerNorm of each row (one block per row): biased variance, rstd = 1 / sqrt(var + eps); the
// row's mean and rstd are kept for the backward pass.
extern "C" __global__ void layer_norm_f32(const float* x, const float* gamma, const float* beta, float* out,
                                          float* mean, float* rstd, int rows, int dim, float eps) {
    __shared__ float scratch[33];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + (size_t) r * dim;
        float* dst = out + (size_t) r * dim;
        float local = 0.0f;
        for (int c = threadIdx.x; c < dim; c += blockDim.x) {
            local += row[c];
        }
        const float mu = block_sum(local, scratch) / dim;
        float local_var = 0.0f;
        for (int c = threadIdx.x; c < dim; c += blockDim.x) {
            const float d = row[c] - mu;
            local_var += d * d;
        }
        const float s = rsqrtf(block_sum(local_var, scratch) / dim + eps);
        for (int c = threadIdx.x; c < dim; c += blockDim.x) {
            dst[c] = (row[c] - mu) * s * gamma[c] + beta[c];
        }
        if (threadIdx.x == 0) {
            mean[r] = mu;
            rstd[r] = s;
        }
    }
}

// LayerNorm's input gradient, one block per row:
//   dxhat = dy * gamma;  dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
extern "C" __global__ void layer_norm_backward_f32(const float* x, const float* mean, const float* rstd,
                                                   const float* gamma, const float* grad_out, float* grad_in,
                                                   int rows, int dim) {
    __shared__ float scratch[33];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + (size_t) r * dim;
        const float* dy = grad_out + (size_t) r * dim;
        float* dx = grad_in + (size_t) r * dim;
        const float mu = mean[r];
        const float s = rstd[r];
        float local_d = 0.0f;
        float local_dx = 0.0f;
        for (int c = threadIdx.x; c < dim; c += blockDim.x) {
            const float xhat = (row[c] - mu) * s;
            const float dxhat = dy[c] * gamma[c];
            local_d += dxhat;
            local_dx += dxhat * xhat;
        }
        const float mean_d = block_sum(local_d, scratch) / dim;
        const float mean_dx = block_sum(local_dx, scratch) / dim;
        for (int c = threadIdx.x; c < dim; c += blockDim.x) {
            const float xhat = (row[c] - mu) * s;
            dx[c] = s * (dy[c] * gamma[c] - mean_d - xhat * mean_dx);
        }
    }
}

// LayerNorm's parameter gradients, one thread per column, rows in order (deterministic):
//   grad_gamma[c] = sum over rows of dy * xhat;  grad_beta[c] = sum over rows of dy.
extern "C" __global__ void layer_norm_param_grads_f32(const float* x, const float* mean, const float* rstd,
                                                      const float* grad_out, float* grad_gamma, float* grad_beta,
                                                      int rows, int dim) {
    GRID_STRIDE_LOOP(c, dim) {
        float g = 0.0f;
        float b = 0.0f;
        for (int r = 0; r < rows; r++) {
            const float dy = grad_out[(size_t) r * dim + c];
            g += dy * (x[(size_t) r * dim + c] - mean[r]) * rstd[r];
            b += dy;
        }
        grad_gamma[c] = g;
        grad_beta[c] = b;
    }
}

// The exact GELU, x * Phi(x), and its derivative Phi(x) + x * phi(x).
extern "C" __global__ void gelu_f32(const float* x, float* out, int n) {
    GRID_STRIDE_LOOP(i, n) {
        const float v = x[i];
        out[i] = v * 0.5f * (1.0f + erff(v * 0.70710678118654752f));
    }
}

extern "C" __global__ void gelu_backward_f32(const float* x, const float* grad_out, float* grad_in, int n) {
    GRID_STRIDE_LOOP(i, n) {
        const float v = x[i];
        const float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752f));
        const float pdf = 0.39894228040143268f * expf(-0.5f * v * v);
        grad_in[i] = grad_out[i] * (cdf + v * pdf);
    }
}

// Rows of [q | k | v] (batch * time rows of 3 * heads * head_dim) to per-head q, k, v laid out
// [batch][head][time][head_dim], one thread per per-head element; join != 0 goes the other way.
extern "C" __global__ void split_heads_f32(float* qkv, float* q, float* k, float* v, int batch, int time, int heads,
                                           int head_dim, int join) {
    const int c = heads * head_dim;
    GRID_STRIDE_LOOP(i, batch * time * c) {
        const int d = i % head_dim;
        const int t = (i / head_dim) % time;
        const int h = (i / (head_dim * time)) % heads;
        const int b = i / (head_dim * time * heads);
        const size_t src = (size_t) (b * time + t) * 3 * c + h * head_dim + d;
        if (join) {
            qkv[src] = q[i];
            qkv[src + c] = k[i];
            qkv[src + 2 * c] = v[i];
        } else {
            q[i] = qkv[src];
            k[i] = qkv[src + c];
            v[i] = qkv[src + 2 * c];
        }
    }
}

// y [batch][head][time][head_dim] to rows [batch * time][heads * head_dim] (merge != 0), or back.
extern "C" __global__ void merge_heads_f32(float* y, float* rows, int batch, int time, int heads, int head_dim,
                                           int merge) {
    const int c = heads * head_dim;
    GRID_STRIDE_LOOP(i, batch * time * c) {
        const int d = i % head_dim;
        const int t = (i / head_dim) % time;
        const int h = (i / (head_dim * time)) % heads;
        const int b = i / (head_dim * time * heads);
        const size_t ro = (size_t) (b * time + t) * c + h * head_dim + d;
        if (merge) {
            rows[ro] = y[i];
        } else {
            y[i] = rows[ro];
        }
    }
}

// Causal softmax of square time x time blocks, one block per row (rows = blocks * time): row i of a
// block is the softmax of scale * s[0..i], and 0 past the diagonal.
extern "C" __global__ void causal_softmax_f32(const float* s, float* p, int rows, int time, float scale) {
    __shared__ float scratch[33];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const int last = r % time;
        const float* row = s + (size_t) r * time;
        float* dst = p + (size_t) r * time;
        float local_max = -INFINITY;
        for (int c = threadIdx.x; c <= last; c += blockDim.x) {
            local_max = fmaxf(local_max, scale * row[c]);
        }
        const float row_max = block_max(local_max, scratch);
        float local_sum = 0.0f;
        for (int c = threadIdx.x; c < time; c += blockDim.x) {
            const float e = c <= last ? expf(scale * row[c] - row_max) : 0.0f;
            dst[c] = e;
            local_sum += e;
        }
        const float inv_sum = 1.0f / block_sum(local_sum, scratch);
        for (int c = threadIdx.x; c <= last; c += blockDim.x) {
            dst[c] *= inv_sum;
        }
    }
}

// The backward pass of a row softmax of scale * s, one block per row:
//   grad_s = scale * p * (grad_p - sum(p * grad_p)).
extern "C" __global__ void softmax_backward_f32(const float* p, const float* grad_p, float* grad_s, int rows, int cols,
                                                float scale) {
    __shared__ float scratch[33];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* pr = p + (size_t) r * cols;
        const float* gr = grad_p + (size_t) r * cols;
        float* dst = grad_s + (size_t) r * cols;
        float local = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            local += pr[c] * gr[c];
        }
        const float dot = block_sum(local, scratch);
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            dst[c] = scale * pr[c] * (gr[c] - dot);
        }
    }
}
