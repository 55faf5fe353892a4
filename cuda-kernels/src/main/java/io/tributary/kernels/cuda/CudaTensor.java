package io.tributary.kernels.cuda;

import io.tributary.kernels.Tensor;

/**
 * A view of {@code length} floats in GPU memory, {@code offset} elements into a device allocation
 * of {@code capacity} elements. Slices share the allocation; the owning {@link CudaBackend} frees
 * it on close.
 */
public final class CudaTensor implements Tensor {

    final CudaBackend owner;
    /** Start of the whole allocation. */
    final DevicePointer base;
    /** First element of this view: {@code base + 4 * offset} bytes. */
    final DevicePointer pointer;
    /** Device address of {@link #pointer}, cached for kernel parameters. */
    final long address;
    final int offset;
    private final int length;
    /** The whole allocation, as {@link CudaBackend#allocate} returned it (only such a tensor may be freed). */
    final boolean whole;

    CudaTensor(CudaBackend owner, DevicePointer base, int capacity, int offset, int length) {
        this(owner, base, capacity, offset, length, false);
    }

    CudaTensor(CudaBackend owner, DevicePointer base, int capacity, int offset, int length, boolean whole) {
        Tensor.checkSlice(capacity, offset, length);
        this.whole = whole;
        this.owner = owner;
        this.base = base;
        this.pointer = offset == 0 ? base : base.plusBytes((long) offset * Float.BYTES);
        this.address = pointer.address();
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
        return new CudaTensor(owner, base, offset + length, offset + sliceOffset, sliceLength);
    }

    @Override
    public String toString() {
        return "CudaTensor[offset=" + offset + ", length=" + length + "]";
    }
}
