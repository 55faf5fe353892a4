package io.tributary.kernels;

import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.kernels.cpu.NativeBlas;
import io.tributary.kernels.cuda.CudaBackend;
import java.util.function.Consumer;

/** Chooses and opens the backend a node computes on. */
public final class Backends {

    private Backends() {
    }

    /**
     * Opens the backend for {@code mode}. {@code notice} receives one line for each choice worth
     * telling the user (the CPU fallback and why, the missing native BLAS); no stack traces.
     *
     * @throws BackendUnavailableException when {@code cuda} is asked for and no GPU is usable
     */
    public static Backend open(BackendMode mode, Consumer<String> notice) {
        switch (mode) {
            case CUDA:
                return CudaBackend.open(0);
            case AUTO:
                try {
                    return CudaBackend.open(0);
                } catch (BackendUnavailableException e) {
                    notice.accept("backend auto: using the CPU because " + e.getMessage());
                    return cpu(notice);
                }
            case CPU:
            default:
                return cpu(notice);
        }
    }

    private static Backend cpu(Consumer<String> notice) {
        if (NativeBlas.instance() == null) {
            notice.accept("cpu backend: plain-Java math because " + NativeBlas.problem());
        }
        return CpuBackend.create();
    }
}
