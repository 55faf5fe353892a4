package io.tributary.coordinator;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Matches what each trainer says it sent every shard (CRC32 per shard slice, from {@code StepDone})
 * with what each shard says it received (from {@code ShardCommitted}), whichever arrives first, and
 * counts comparisons and mismatches. A (trainer, step) is forgotten once every shard has been
 * compared. Gradients a shard dropped as late never get both sides: past {@link #MAX_PENDING}
 * one-sided entries the oldest steps are given up, counted in {@link #abandoned()} and logged, so
 * the maps stay bounded and no comparison is lost silently.
 */
final class GradientChecksums {

    /** Told about each mismatch. */
    interface MismatchListener {
        void mismatch(int trainer, long step, int shard, long sent, long received);
    }

    private static final Logger LOG = LoggerFactory.getLogger(GradientChecksums.class);

    /** One-sided (trainer, step) entries kept at most. */
    static final int MAX_PENDING = 100_000;

    private final int shards;
    /** Wired again after the coordinator's state is read back ({@link #listener(MismatchListener)}): not stored. */
    private transient MismatchListener listener;
    private final Map<Long, List<Long>> sent = new HashMap<>();
    private final Map<Long, Map<Integer, Long>> received = new HashMap<>();
    private final Map<Long, Integer> comparedShards = new HashMap<>();
    private long compared;
    private long mismatches;
    private long abandoned;

    /** Who hears of mismatches, after this was read back from stored state. */
    void listener(MismatchListener listener) {
        this.listener = listener;
    }

    GradientChecksums(int shards, MismatchListener listener) {
        this.shards = shards;
        this.listener = listener;
    }

    void sent(int trainer, long step, List<Long> perShard) {
        long key = key(trainer, step);
        sent.put(key, perShard);
        compare(key);
    }

    void received(int trainer, long step, int shard, long crc) {
        long key = key(trainer, step);
        received.computeIfAbsent(key, k -> new HashMap<>()).put(shard, crc);
        compare(key);
    }

    /** Forgets every (trainer, step) at or after {@code step}: the shards were rolled back and those steps are done again. */
    void forgetFrom(long step) {
        long mask = (1L << 40) - 1;
        sent.keySet().removeIf(k -> (k & mask) >= step);
        received.keySet().removeIf(k -> (k & mask) >= step);
        comparedShards.keySet().removeIf(k -> (k & mask) >= step);
    }

    long compared() {
        return compared;
    }

    long mismatches() {
        return mismatches;
    }

    /** One-sided (trainer, step) entries given up to keep the maps bounded. */
    long abandoned() {
        return abandoned;
    }

    /** Gives up the older half of the pending steps (their other side never came), saying how many. */
    private void abandonOldestHalf() {
        long mask = (1L << 40) - 1;
        long[] steps = new long[sent.size() + received.size()];
        int n = 0;
        for (long k : sent.keySet()) {
            steps[n++] = k & mask;
        }
        for (long k : received.keySet()) {
            steps[n++] = k & mask;
        }
        java.util.Arrays.sort(steps, 0, n);
        // the older half; when every pending entry is of one step, that step goes
        long below = steps[n / 2] > steps[0] ? steps[n / 2] : steps[0] + 1;
        int before = sent.size() + received.size();
        sent.keySet().removeIf(k -> (k & mask) < below);
        received.keySet().removeIf(k -> (k & mask) < below);
        comparedShards.keySet().removeIf(k -> (k & mask) < below);
        int dropped = before - sent.size() - received.size();
        abandoned += dropped;
        LOG.warn("gradient checksums: {} (trainer, step) entries before step {} never got both sides (a shard dropped "
                + "those gradients as late, or a report was lost); given up to keep memory bounded, {} so far",
                dropped, below, abandoned);
    }

    private static long key(int trainer, long step) {
        return ((long) trainer << 40) ^ step;
    }

    private void compare(long key) {
        List<Long> s = sent.get(key);
        Map<Integer, Long> r = received.get(key);
        if (s == null || r == null) {
            if (sent.size() + received.size() > MAX_PENDING) {
                abandonOldestHalf();
            }
            return;
        }
        for (Map.Entry<Integer, Long> e : r.entrySet()) {
            compared++;
            long want = s.get(e.getKey());
            if (want != e.getValue()) {
                mismatches++;
                listener.mismatch((int) (key >>> 40), key & ((1L << 40) - 1), e.getKey(), want, e.getValue());
            }
        }
        int done = comparedShards.merge(key, r.size(), Integer::sum);
        r.clear();
        if (done >= shards) {
            sent.remove(key);
            received.remove(key);
            comparedShards.remove(key);
        }
    }
}
