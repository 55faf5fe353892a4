package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.kernels.Backend;
import io.tributary.kernels.cpu.CpuBackend;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class TrainerBackendTest {

    /** A stand-in for a GPU backend: describes itself and records whether it was closed. */
    private static Backend fakeGpu(AtomicBoolean closed) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "description" -> "fake GPU";
                    case "close" -> {
                        closed.set(true);
                        yield null;
                    }
                    default -> throw new IllegalStateException("CUDA_ERROR_ILLEGAL_ADDRESS in " + method.getName());
                });
    }

    @Test
    void afterTheConfiguredGpuFailuresTheTrainerFallsBackToTheCpuOnceAndSaysWhy() {
        AtomicBoolean closed = new AtomicBoolean();
        Backend gpu = fakeGpu(closed);
        List<String> notices = new ArrayList<>();
        try (Backend cpu = CpuBackend.create()) {
            TrainerBackend b = new TrainerBackend(gpu, true, () -> cpu, 3, notices::add);
            assertSame(gpu, b.current());
            RuntimeException failure = assertThrows(IllegalStateException.class, () -> b.current().gemm(false, false,
                    1, 1, 1, 1f, null, null, 0f, null));
            assertFalse(b.failed(failure));
            assertFalse(b.failed(failure));
            assertSame(gpu, b.current(), "still on the GPU after 2 of 3 failures");
            assertTrue(b.failed(failure), "the third failure falls back");
            assertFalse(b.onGpu());
            assertEquals(1, notices.size());
            assertTrue(notices.get(0).contains("fake GPU") && notices.get(0).contains("failed 3 times")
                    && notices.get(0).contains("CUDA_ERROR_ILLEGAL_ADDRESS") && notices.get(0).contains("CPU backend"),
                    notices.get(0));
            assertFalse(closed.get(), "the GPU backend is closed only when the restarted trainer asks for its backend");
            assertSame(cpu, b.current());
            assertTrue(closed.get());
            assertFalse(b.failed(failure), "failures on the CPU only restart");
            assertEquals(1, notices.size());
        }
    }

    @Test
    void aCpuTrainerNeverSwitchesAndBadSettingsAreRefused() {
        try (Backend cpu = CpuBackend.create()) {
            TrainerBackend b = TrainerBackend.cpuOnly(cpu);
            assertFalse(b.failed(new IllegalStateException("x")));
            assertSame(cpu, b.current());
            assertThrows(IllegalArgumentException.class, () -> new TrainerBackend(cpu, true, () -> cpu, 0, s -> { }));
        }
    }
}
