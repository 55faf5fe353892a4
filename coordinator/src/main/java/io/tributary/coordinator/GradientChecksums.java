package io.tributary.coordinator;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Matches what each trainer says it sent every shard (CRC32 per shard slice, from {@code StepDone})
 * with what each shard says it received (from {@code ShardCommitted}), whichever arrives first, and
 * counts comparisons and mismatches. A (trainer, step) is forgotten once every shard has been
 * compared; gradients a shard dropped as late never get both sides, so the maps are bounded.
 */
final class GradientChecksums {

    /** Told about each mismatch. */
    interface MismatchListener {
        void mismatch(int trainer, long step, int shard, long sent, long received);
    }

    private static final int MAX_PENDING = 100_000;

    private final int shards;
    private final MismatchListener listener;
    private final Map<Long, List<Long>> sent = new HashMap<>();
    private final Map<Long, Map<Integer, Long>> received = new HashMap<>();
    private final Map<Long, Integer> comparedShards = new HashMap<>();
    private long compared;
    private long mismatches;

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

    private static long key(int trainer, long step) {
        return ((long) trainer << 40) ^ step;
    }

    private void compare(long key) {
        List<Long> s = sent.get(key);
        Map<Integer, Long> r = received.get(key);
        if (s == null || r == null) {
            if (sent.size() + received.size() > MAX_PENDING) {
                sent.clear();
                received.clear();
                comparedShards.clear();
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
