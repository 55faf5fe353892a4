package io.tributary.kernels;

/**
 * A contiguous run of float32 values owned by one {@link Backend}: host memory for the CPU
 * backend, device memory for the CUDA backend. Matrices are row-major views whose dimensions
 * are passed to each operation, as in BLAS.
 */
public interface Tensor {

    /** Number of float elements in this view. */
    int length();

    /** A view of {@code length} elements starting at {@code offset} of this view; shares memory. */
    Tensor slice(int offset, int length);

    /** Throws if {@code [offset, offset + length)} does not lie inside a buffer of {@code capacity}. */
    static void checkSlice(int capacity, int offset, int length) {
        if (offset < 0 || length < 0 || (long) offset + length > capacity) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + ((long) offset + length)
                    + ") is outside a tensor of length " + capacity);
        }
    }
}
