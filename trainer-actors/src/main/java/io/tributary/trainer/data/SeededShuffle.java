package io.tributary.trainer.data;

/**
 * SplitMix64-based shuffling, written out here rather than taken from {@code java.util}
 * so that a partition or batch order is a pure function of its seed: every JVM in the
 * cluster, whatever its version, computes the same permutation.
 */
final class SeededShuffle {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    SeededShuffle(long seed) {
        this.state = seed;
    }

    /** Restarts the sequence, so one instance can serve many epochs without allocating. */
    void reseed(long seed) {
        this.state = seed;
    }

    /** A seed for a sub-stream, e.g. one per epoch, that does not collide with neighbours. */
    static long derive(long seed, long stream) {
        return mix(seed + mix(stream + GOLDEN_GAMMA));
    }

    long nextLong() {
        state += GOLDEN_GAMMA;
        return mix(state);
    }

    /** Uniform in [0, bound), unbiased (rejects the top sliver of the 63-bit range). */
    int nextInt(int bound) {
        long limit = Long.MAX_VALUE - (Long.MAX_VALUE % bound);
        long r;
        do {
            r = nextLong() >>> 1;
        } while (r >= limit);
        return (int) (r % bound);
    }

    /** Fisher-Yates over {@code a[from, to)}. */
    void shuffle(int[] a, int from, int to) {
        for (int i = to - 1; i > from; i--) {
            int j = from + nextInt(i - from + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
