package io.tributary.kernels.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A device pointer that also knows its numeric address, so that kernel launches can pass it by
 * value through a reused {@code long[]} parameter slot instead of a fresh JCuda pointer object.
 */
final class DevicePointer extends CUdeviceptr {

    /** An empty pointer for {@code cuMemAlloc} to fill in. */
    DevicePointer() {
    }

    private DevicePointer(DevicePointer base, long byteOffset) {
        super(base, byteOffset);
    }

    /** A pointer {@code byteOffset} bytes past this one, sharing the allocation. */
    DevicePointer plusBytes(long byteOffset) {
        return new DevicePointer(this, byteOffset);
    }

    /** The device address this pointer designates, offset included. */
    long address() {
        return getNativePointer() + getByteOffset();
    }
}
