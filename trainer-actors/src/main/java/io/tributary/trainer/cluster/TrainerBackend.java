package io.tributary.trainer.cluster;

import io.tributary.kernels.Backend;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The backend a trainer computes on, across the restarts of its actor. A compute failure on the GPU
 * (a CUDA error, out of device memory) is counted; after {@code maxGpuFailures} of them the trainer
 * falls back to the CPU backend for the rest of its life, and says so once. The retired GPU backend
 * is closed when the restarted actor first asks for the backend (the old actor has released its
 * tensors by then). Failures on the CPU only restart the actor.
 */
public final class TrainerBackend {

    private final Supplier<Backend> cpu;
    private final int maxGpuFailures;
    private final Consumer<String> notice;
    private Backend current;
    private boolean gpu;
    private int gpuFailures;
    private Backend retired;

    /**
     * @param initial        the backend chosen at start
     * @param initialIsGpu   whether {@code initial} is a GPU backend
     * @param cpu            opens the CPU backend when the trainer falls back
     * @param maxGpuFailures GPU failures before the fallback, &gt;= 1
     * @param notice         receives the one line that says the trainer fell back, and why
     */
    public TrainerBackend(Backend initial, boolean initialIsGpu, Supplier<Backend> cpu, int maxGpuFailures,
                          Consumer<String> notice) {
        if (maxGpuFailures < 1) {
            throw new IllegalArgumentException("tributary.trainer.gpu-failures-before-cpu = " + maxGpuFailures
                    + " is invalid: it must be >= 1");
        }
        this.current = initial;
        this.gpu = initialIsGpu;
        this.cpu = cpu;
        this.maxGpuFailures = maxGpuFailures;
        this.notice = notice;
    }

    /** A fixed CPU backend (no fallback to make). */
    public static TrainerBackend cpuOnly(Backend cpuBackend) {
        return new TrainerBackend(cpuBackend, false, () -> cpuBackend, 1, line -> { });
    }

    /** The backend to compute on now. */
    public synchronized Backend current() {
        if (retired != null) {
            Backend old = retired;
            retired = null;
            try {
                old.close();
            } catch (RuntimeException e) {
                notice.accept("trainer: closing the failed GPU backend failed too (" + e.getMessage() + "); ignored");
            }
        }
        return current;
    }

    public synchronized boolean onGpu() {
        return gpu;
    }

    public synchronized int gpuFailures() {
        return gpuFailures;
    }

    /**
     * A computation on the current backend threw {@code cause}; the actor is about to restart.
     * Returns true when this failure made the trainer fall back to the CPU.
     */
    public synchronized boolean failed(Throwable cause) {
        if (!gpu) {
            return false;
        }
        gpuFailures++;
        if (gpuFailures < maxGpuFailures) {
            return false;
        }
        Backend replacement = cpu.get();
        notice.accept("trainer: the GPU backend (" + current.description() + ") failed " + gpuFailures + " times (last: "
                + cause + "); falling back to the CPU backend (" + replacement.description() + ") for the rest of this run");
        retired = current;
        current = replacement;
        gpu = false;
        return true;
    }
}
