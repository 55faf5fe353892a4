package io.tributary.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * One kernel entry of the loaded PTX module with its parameter list built once. Each parameter
 * has a one-element array as its slot; JCuda reads the arrays at launch time, so setting the
 * slots and launching allocates nothing.
 *
 * <p>The signature is one character per parameter, in order: {@code p} a device pointer,
 * {@code i} an int, {@code f} a float. It must match the kernel's C signature.
 */
final class Kernel {

    private final String name;
    private final String signature;
    private final CUfunction function = new CUfunction();
    private final long[][] pointers;
    private final int[][] ints;
    private final float[][] floats;
    private final Pointer parameters;

    Kernel(CUmodule module, String name, String signature) {
        this.name = name;
        this.signature = signature;
        cuModuleGetFunction(function, module, name);
        int count = signature.length();
        pointers = new long[count][];
        ints = new int[count][];
        floats = new float[count][];
        NativePointerObject[] slots = new NativePointerObject[count];
        for (int i = 0; i < count; i++) {
            switch (signature.charAt(i)) {
                case 'p' -> slots[i] = Pointer.to(pointers[i] = new long[1]);
                case 'i' -> slots[i] = Pointer.to(ints[i] = new int[1]);
                case 'f' -> slots[i] = Pointer.to(floats[i] = new float[1]);
                default -> throw new IllegalArgumentException("kernel " + name + ": bad signature character '"
                        + signature.charAt(i) + "' in \"" + signature + "\" (use p, i or f)");
            }
        }
        parameters = Pointer.to(slots);
    }

    String name() {
        return name;
    }

    Kernel pointer(int index, long address) {
        slot(pointers, index, 'p')[0] = address;
        return this;
    }

    Kernel pointer(int index, CudaTensor tensor) {
        return pointer(index, tensor.address);
    }

    Kernel pointer(int index, DevicePointer p) {
        return pointer(index, p.address());
    }

    Kernel integer(int index, int value) {
        slot(ints, index, 'i')[0] = value;
        return this;
    }

    Kernel real(int index, float value) {
        slot(floats, index, 'f')[0] = value;
        return this;
    }

    /** Launches a 1-D grid of 1-D blocks on the default stream. */
    void launch(int gridX, int blockX, int sharedBytes) {
        launch(gridX, blockX, 1, sharedBytes);
    }

    /** Launches a 1-D grid of 2-D blocks on the default stream. */
    void launch(int gridX, int blockX, int blockY, int sharedBytes) {
        cuLaunchKernel(function, gridX, 1, 1, blockX, blockY, 1, sharedBytes, null, parameters, null);
    }

    private <T> T slot(T[] slots, int index, char kind) {
        T slot = index >= 0 && index < slots.length ? slots[index] : null;
        if (slot == null) {
            throw new IllegalStateException("kernel " + name + " (" + signature + "): parameter " + index
                    + " is not of kind '" + kind + "'");
        }
        return slot;
    }
}
