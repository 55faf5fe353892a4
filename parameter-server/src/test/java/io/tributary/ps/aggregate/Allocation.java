package io.tributary.ps.aggregate;

import java.lang.management.ManagementFactory;

/** Bytes the current thread allocates over 1000 calls of a warmed-up action (ThreadMXBean). */
final class Allocation {

    /**
     * A constant for one-off JVM charges (a JIT recompilation mid-run); any per-call allocation costs
     * at least one 16-byte object per call, 16,000 bytes over the measured calls.
     */
    static final long ALLOWED_BYTES = 4096;
    private static final int WARM_UP_CALLS = 3000;
    private static final int MEASURED_CALLS = 1000;
    private static final int ROUNDS = 5;

    private Allocation() {
    }

    static long perThousandCalls(Runnable action) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        if (!threads.isThreadAllocatedMemorySupported()) {
            throw new AssertionError("this JVM cannot measure per-thread allocation");
        }
        threads.setThreadAllocatedMemoryEnabled(true);
        long id = Thread.currentThread().getId();
        // The least of a few rounds: on a loaded machine the JIT may not have compiled the action (the
        // Vector API allocates its vectors until C2 does) by the end of one warm-up; an action that
        // really allocates per call does so in every round.
        long least = Long.MAX_VALUE;
        for (int round = 0; round < ROUNDS && least > ALLOWED_BYTES; round++) {
            for (int i = 0; i < WARM_UP_CALLS; i++) {
                action.run();
            }
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < MEASURED_CALLS; i++) {
                action.run();
            }
            least = Math.min(least, threads.getThreadAllocatedBytes(id) - before);
        }
        return least;
    }
}
