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
