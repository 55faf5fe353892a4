package io.tributary.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;

import io.tributary.kernels.BackendUnavailableException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;

/**
 * One CUDA device's primary context (which the CUDA runtime behind cuBLAS shares) and the memory
 * the backend's tensors live in: made current on whichever thread works next, and released, with
 * every tensor allocation, on {@link #close()}. Not thread-safe, like the backend that owns it.
 */
final class CudaContext implements AutoCloseable {

    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final List<DevicePointer> allocations = new ArrayList<>();
    private boolean retained;
    private Thread currentOn;

    /**
     * Initialises the driver and makes device {@code ordinal}'s primary context current here.
     *
     * @throws BackendUnavailableException with a one-line reason and fix when the driver or the device
     *     cannot be used
     */
    CudaContext(int ordinal) {
        this.ordinal = ordinal;
        String stage = "cuInit";
        try {
            cuInit(0);
            stage = "cuDeviceGetCount";
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                throw new BackendUnavailableException("no CUDA device found (the driver sees none); check "
                        + "nvidia-smi and CUDA_VISIBLE_DEVICES, or use --backend cpu");
            }
            if (ordinal >= count[0]) {
                throw new BackendUnavailableException("CUDA device " + ordinal + " asked for, but only " + count[0]
                        + " visible (ordinals 0.." + (count[0] - 1) + "); pick one of those or check CUDA_VISIBLE_DEVICES");
            }
            stage = "cuDeviceGet";
            cuDeviceGet(device, ordinal);
            stage = "cuDevicePrimaryCtxRetain";
            cuDevicePrimaryCtxRetain(context, device);
            retained = true;
            stage = "cuCtxSetCurrent";
            cuCtxSetCurrent(context);
            currentOn = Thread.currentThread();
        } catch (RuntimeException e) {
            throw CudaNatives.initFailure(e, stage, ordinal, this::close);
        }
    }

    int ordinal() {
        return ordinal;
    }

    /** Makes the context current on the calling thread, if the last call came from another one. */
    void makeCurrent() {
        Thread current = Thread.currentThread();
        if (current != currentOn) {
            cuCtxSetCurrent(context);
            currentOn = current;
        }
    }

    /** Waits for all work queued on the default stream. */
    void synchronize() {
        cuCtxSynchronize();
    }

    /** Device attribute {@code attribute} ({@code CUdevice_attribute}) of this device. */
    int attribute(int attribute) {
        int[] value = new int[1];
        cuDeviceGetAttribute(value, attribute, device);
        return value[0];
    }

    /** The device's marketing name, as the driver reports it. */
    String deviceName() {
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int length = 0;
        while (length < name.length && name[length] != 0) {
            length++;
        }
        return new String(name, 0, length, StandardCharsets.UTF_8);
    }

    // ---- memory -----------------------------------------------------------------------------------

    /** Allocates room for {@code elements} floats (at least one) that the caller frees with {@link #free}. */
    DevicePointer allocate(int elements) {
        DevicePointer p = new DevicePointer();
        long bytes = Math.max(1L, elements) * Float.BYTES;
        try {
            cuMemAlloc(p, bytes);
        } catch (CudaException e) {
            throw new IllegalStateException("cannot allocate " + elements + " floats (" + (bytes >> 20)
                    + " MiB) on CUDA device " + ordinal + ": " + e.getMessage(), e);
        }
        return p;
    }

    void free(DevicePointer p) {
        cuMemFree(p);
    }

    /** Allocates {@code length} zeroed floats for a tensor; they stay until {@link #close()}. */
    DevicePointer allocateTensor(int length) {
        DevicePointer p = allocate(length);
        allocations.add(p);
        cuMemsetD32(p, 0, Math.max(1, length));
        return p;
    }

    /** Frees a tensor's allocation before {@link #close()}; refuses one freed already (a double cuMemFree). */
    void freeTensor(DevicePointer p) {
        boolean held = false;
        for (int i = allocations.size() - 1; i >= 0 && !held; i--) {
            if (allocations.get(i) == p) {
                allocations.remove(i);
                held = true;
            }
        }
        if (!held) {
            throw new IllegalArgumentException("this tensor's device memory was freed already (or by close())");
        }
        cuMemFree(p);
    }

    /** Copies {@code n > 0} floats from {@code src[srcOffset..]} to the device at {@code dst}. */
    void upload(float[] src, int srcOffset, DevicePointer dst, int n) {
        cuMemcpyHtoD(dst, Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES), (long) n * Float.BYTES);
    }

    /** Copies {@code n > 0} floats from the device at {@code src} to {@code dst[dstOffset..]}. */
    void download(DevicePointer src, float[] dst, int dstOffset, int n) {
        cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES), src, (long) n * Float.BYTES);
    }

    /** Copies {@code n > 0} floats within the device. */
    void copy(DevicePointer src, DevicePointer dst, int n) {
        cuMemcpyDtoD(dst, src, (long) n * Float.BYTES);
    }

    // ---- release ----------------------------------------------------------------------------------

    /**
     * Frees every tensor allocation, then releases the primary context; throws the first failure, the
     * rest suppressed. The context must be current (see {@link #makeCurrentForRelease()}).
     */
    @Override
    public void close() {
        RuntimeException first = null;
        for (DevicePointer p : allocations) {
            first = attempt(() -> cuMemFree(p), first);
        }
        allocations.clear();
        if (retained) {
            retained = false;
            first = attempt(() -> cuDevicePrimaryCtxRelease(device), first);
        }
        if (first != null) {
            throw first;
        }
    }

    /** Makes the context current on this thread, whichever thread used it last, so that it can be released. */
    void makeCurrentForRelease() {
        if (retained) {
            cuCtxSetCurrent(context);
            currentOn = Thread.currentThread();
        }
    }

    /** Runs {@code step}; returns the first failure so far, a later one added to it as suppressed. */
    static RuntimeException attempt(Runnable step, RuntimeException first) {
        try {
            step.run();
            return first;
        } catch (RuntimeException e) {
            if (first == null) {
                return e;
            }
            first.addSuppressed(e);
            return first;
        }
    }
}
