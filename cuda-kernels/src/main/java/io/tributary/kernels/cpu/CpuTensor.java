package io.tributary.kernels.cpu;

import io.tributary.kernels.Tensor;

/** A tensor in host memory: a window {@code [offset, offset + length)} of a {@code float[]}. */
public final class CpuTensor implements Tensor {

    final float[] data;
    final int offset;
    private final int length;
    /** An allocation the backend gave back ({@link CpuBackend#free}); slices are never marked. */
    boolean freed;

    CpuTensor(float[] data, int offset, int length) {
        Tensor.checkSlice(data.length, offset, length);
        this.data = data;
        this.offset = offset;
        this.length = length;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public Tensor slice(int sliceOffset, int sliceLength) {
        Tensor.checkSlice(length, sliceOffset, sliceLength);
        return new CpuTensor(data, offset + sliceOffset, sliceLength);
    }

    /** The backing array (shared); elements {@link #offset()}.. belong to this tensor. */
    public float[] array() {
        return data;
    }

    public int offset() {
        return offset;
    }
}
