package io.tributary.node;

import io.tributary.dataplane.FaultHooks;

/**
 * The data-plane faults {@link ChaosControl} drives: a cut network (every frame the node would send
 * or receive is dropped), a partition between groups (frames to the other group's endpoints are
 * dropped; each side drops its own sends, so nothing crosses) and a cap on the bytes it sends per second, enforced by pacing its senders
 * so that the bytes sent since the cap started average at most the cap (bursts up to 50 ms).
 */
final class ChaosFaults implements FaultHooks {

    /** How far ahead of the cap a sender may burst. */
    static final long BURST_NANOS = 50_000_000L;

    private volatile boolean cutOff;
    /** Data-plane endpoints on the other side of a partition between groups (empty: none). */
    private volatile java.util.Set<String> cutFrom = java.util.Set.of();
    private volatile long capBytesPerSecond;
    /** When the bytes sent so far are paid for at the cap (guarded by this). */
    private long paceNanos;

    /** While {@code cut}, every frame is dropped, as if the node's network were cut. */
    void cutOff(boolean cut) {
        this.cutOff = cut;
    }

    @Override
    public boolean isCutOff() {
        return cutOff;
    }

    /** While a partition between groups holds: frames to these endpoints are dropped (empty: none). */
    void cutFrom(java.util.Set<String> endpoints) {
        this.cutFrom = java.util.Set.copyOf(endpoints);
    }

    @Override
    public boolean isCutOff(String target) {
        return cutOff || cutFrom.contains(target);
    }

    /** The configured cap ({@code tributary.data-plane.bandwidth-cap}; 0: none), which a chaos cap only tightens. */
    private volatile long configuredCap;

    /** The node's configured cap (0: none): in force from now on, and again whenever a chaos cap is lifted. */
    void configureCap(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("a bandwidth cap must be >= 0 bytes/s (0: none), got " + bytesPerSecond);
        }
        this.configuredCap = bytesPerSecond;
        this.capBytesPerSecond = bytesPerSecond;
    }

    /**
     * A chaos fault caps what the node sends to {@code bytesPerSecond}, or lifts its cap (0): the
     * configured cap stays in force under either (the lower of the two applies).
     */
    void capBandwidth(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("a bandwidth cap must be >= 0 bytes/s (0: none), got " + bytesPerSecond);
        }
        long base = configuredCap;
        this.capBytesPerSecond = bytesPerSecond == 0 ? base : base == 0 ? bytesPerSecond : Math.min(base, bytesPerSecond);
    }

    @Override
    public void pace(long bytes) {
        long sleep = delayNanos(bytes, System.nanoTime());
        if (sleep > 0) {
            try {
                Thread.sleep(sleep / 1_000_000L, (int) (sleep % 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** How long a sender of {@code bytes} at {@code now} must wait under the cap (0 or less: not at all). */
    long delayNanos(long bytes, long now) {
        long cap = capBytesPerSecond;
        if (cap <= 0) {
            return 0;
        }
        synchronized (this) {
            paceNanos = Math.max(paceNanos, now - BURST_NANOS) + bytes * 1_000_000_000L / cap;
            return paceNanos - now;
        }
    }
}
