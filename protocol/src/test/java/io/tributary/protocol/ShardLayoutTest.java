package io.tributary.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ShardLayoutTest {

    @Test
    void shardsAreContiguousBalancedAndCoverEveryParameterOnce() {
        long seed = 11;
        SplittableRandom r = new SplittableRandom(seed);
        for (int trial = 0; trial < 500; trial++) {
            int total = 1 + r.nextInt(5000);
            int shards = 1 + r.nextInt(Math.min(total, 40));
            ShardLayout l = new ShardLayout(total, shards);
            int next = 0;
            int min = Integer.MAX_VALUE, max = 0;
            for (int k = 0; k < shards; k++) {
                assertEquals(next, l.offset(k), "contiguous (seed " + seed + ")");
                next += l.length(k);
                min = Math.min(min, l.length(k));
                max = Math.max(max, l.length(k));
                for (int i = l.offset(k); i < l.offset(k) + l.length(k); i += Math.max(1, l.length(k) / 3)) {
                    assertEquals(k, l.shardOf(i));
                }
                assertEquals(k, l.shardOf(l.offset(k) + l.length(k) - 1));
            }
            assertEquals(total, next, "covers all");
            assertTrue(max - min <= 1, "balanced");
        }
    }

    @Test
    void tooManyShardsIsRefusedWithTheLimit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ShardLayout(3, 4));
        assertTrue(e.getMessage().contains("at most 3"), e.getMessage());
    }
}
