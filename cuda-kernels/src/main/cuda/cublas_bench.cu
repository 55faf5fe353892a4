// Standalone cuBLAS SGEMM throughput probe: the ceiling the CUDA backend's gemm can reach on this
// GPU. For n = 1024 .. 8192 it times C = A * B (square, column-major) with CUDA events after a
// warm-up, once in full FP32 (what CudaBackend uses) and once with TF32 tensor cores allowed.
//
// Build: nvcc -O2 -o cublas_bench cublas_bench.cu -lcublas
// Run:   ./cublas_bench [repeats]     (default 10 timed runs per size)

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK_CUDA(call)                                                                  \
    do {                                                                                  \
        cudaError_t status_ = (call);                                                     \
        if (status_ != cudaSuccess) {                                                     \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,         \
                    cudaGetErrorString(status_));                                         \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

#define CHECK_CUBLAS(call)                                                                \
    do {                                                                                  \
        cublasStatus_t status_ = (call);                                                  \
        if (status_ != CUBLAS_STATUS_SUCCESS) {                                           \
            fprintf(stderr, "%s:%d: %s failed: status %d\n", __FILE__, __LINE__, #call,  \
                    (int) status_);                                                       \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

// Fills x[0..n) with values in [-1, 1) from a per-element hash, so no host copy is needed.
__global__ void fill_pseudo_random(float* x, size_t n, unsigned int seed) {
    for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) blockDim.x * gridDim.x) {
        unsigned int h = (unsigned int) i * 2654435761u ^ seed;
        h ^= h >> 16;
        h *= 0x7feb352du;
        h ^= h >> 15;
        x[i] = (float) (h & 0xffffff) / 8388608.0f - 1.0f;
    }
}

static double time_sgemm(cublasHandle_t handle, int n, const float* a, const float* b, float* c, int repeats) {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    for (int i = 0; i < 3; i++) { // warm-up: heuristics, clocks, caches
        CHECK_CUBLAS(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a, n, b, n, &beta, c, n));
    }
    cudaEvent_t start, stop;
    CHECK_CUDA(cudaEventCreate(&start));
    CHECK_CUDA(cudaEventCreate(&stop));
    CHECK_CUDA(cudaEventRecord(start));
    for (int i = 0; i < repeats; i++) {
        CHECK_CUBLAS(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a, n, b, n, &beta, c, n));
    }
    CHECK_CUDA(cudaEventRecord(stop));
    CHECK_CUDA(cudaEventSynchronize(stop));
    float ms = 0.0f;
    CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
    CHECK_CUDA(cudaEventDestroy(start));
    CHECK_CUDA(cudaEventDestroy(stop));
    return ms / repeats;
}

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? atoi(argv[1]) : 10;
    const int sizes[] = {1024, 2048, 4096, 8192};
    const int max_n = 8192;

    int device = 0;
    cudaDeviceProp prop;
    CHECK_CUDA(cudaGetDevice(&device));
    CHECK_CUDA(cudaGetDeviceProperties(&prop, device));
    int cublas_version = 0;
    cublasHandle_t handle;
    CHECK_CUBLAS(cublasCreate(&handle));
    CHECK_CUBLAS(cublasGetVersion(handle, &cublas_version));
    printf("device %d: %s (sm_%d%d, %d SMs), cuBLAS %d, %d timed runs per size\n", device, prop.name,
           prop.major, prop.minor, prop.multiProcessorCount, cublas_version, repeats);

    const size_t elements = (size_t) max_n * max_n;
    float *a, *b, *c;
    CHECK_CUDA(cudaMalloc((void**) &a, elements * sizeof(float)));
    CHECK_CUDA(cudaMalloc((void**) &b, elements * sizeof(float)));
    CHECK_CUDA(cudaMalloc((void**) &c, elements * sizeof(float)));
    fill_pseudo_random<<<1024, 256>>>(a, elements, 1u);
    fill_pseudo_random<<<1024, 256>>>(b, elements, 2u);
    CHECK_CUDA(cudaGetLastError());

    printf("%6s %10s %12s %10s %12s\n", "n", "fp32 ms", "fp32 TFLOP/s", "tf32 ms", "tf32 TFLOP/s");
    for (int s = 0; s < (int) (sizeof(sizes) / sizeof(sizes[0])); s++) {
        const int n = sizes[s];
        const double flops = 2.0 * n * (double) n * n;
        CHECK_CUBLAS(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
        const double fp32_ms = time_sgemm(handle, n, a, b, c, repeats);
        CHECK_CUBLAS(cublasSetMathMode(handle, CUBLAS_TF32_TENSOR_OP_MATH));
        const double tf32_ms = time_sgemm(handle, n, a, b, c, repeats);
        printf("%6d %10.3f %12.2f %10.3f %12.2f\n", n, fp32_ms, flops / (fp32_ms * 1e9), tf32_ms,
               flops / (tf32_ms * 1e9));
    }

    CHECK_CUDA(cudaFree(a));
    CHECK_CUDA(cudaFree(b));
    CHECK_CUDA(cudaFree(c));
    CHECK_CUBLAS(cublasDestroy(handle));
    return 0;
}
