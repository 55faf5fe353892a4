package io.tributary.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PartitionerTest {
    /** Fixed so a failure reproduces; every assertion message carries it. */
    private static final long PROPERTY_SEED = 0x7A1B_2025L;

    @Test
    void randomSplitsAreDisjointCompleteAndBalanced() {
        Random random = new Random(PROPERTY_SEED);
        for (int trial = 0; trial < 500; trial++) {
            int count = 1 + random.nextInt(trial < 400 ? 200 : 20_000);
            int parts = 1 + random.nextInt(Math.min(count, 64));
            long seed = random.nextLong();
            String context = "property seed " + PROPERTY_SEED + ", trial " + trial + ": count " + count
                    + ", parts " + parts + ", seed " + seed;

            assertValidSplit(Partitioner.split(count, parts, seed), count, parts, context + " (shuffled)");
            assertValidSplit(Partitioner.split(count, parts), count, parts, context + " (in order)");
        }
    }

    @Test
    void onePartitionEqualsTheCorrespondingPartOfTheSplit() {
        Random random = new Random(PROPERTY_SEED);
        for (int trial = 0; trial < 100; trial++) {
            int count = 1 + random.nextInt(1000);
            int parts = 1 + random.nextInt(count);
            long seed = random.nextLong();
            int[][] split = Partitioner.split(count, parts, seed);
            for (int p = 0; p < parts; p++) {
                String context = "property seed " + PROPERTY_SEED + ", trial " + trial + ", part " + p;
                assertArrayEquals(split[p], Partitioner.partition(count, parts, p, seed), context);
                assertEquals(split[p].length, Partitioner.partitionSize(count, parts, p), context);
            }
        }
    }

    @Test
    void sameSeedGivesSamePartitionsAndOtherSeedsDiffer() {
        assertTrue(Arrays.deepEquals(Partitioner.split(1000, 7, 42), Partitioner.split(1000, 7, 42)));
        assertFalse(Arrays.deepEquals(Partitioner.split(1000, 7, 42), Partitioner.split(1000, 7, 43)));
    }

    @Test
    void shuffledPartitionsAreNotContiguousRuns() {
        int[] first = Partitioner.partition(10_000, 4, 0, 1);
        assertTrue(first[first.length - 1] - first[0] > first.length, "partition spans the whole index range");
    }

    @Test
    void unshuffledSplitGivesConsecutiveRunsWithLargerPartsFirst() {
        int[][] split = Partitioner.split(10, 3);
        assertArrayEquals(new int[] {0, 1, 2, 3}, split[0]);
        assertArrayEquals(new int[] {4, 5, 6}, split[1]);
        assertArrayEquals(new int[] {7, 8, 9}, split[2]);
        assertArrayEquals(split[1], Partitioner.partition(10, 3, 1));
    }

    @Test
    void badArgumentsAreRejectedWithTheReason() {
        IllegalArgumentException zeroParts = assertThrows(IllegalArgumentException.class,
                () -> Partitioner.split(10, 0, 1));
        assertTrue(zeroParts.getMessage().contains("0 partitions"), zeroParts.getMessage());

        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                () -> Partitioner.split(5, 8, 1));
        assertTrue(tooMany.getMessage().contains("use at most 5 parts"), tooMany.getMessage());

        assertThrows(IllegalArgumentException.class, () -> Partitioner.split(0, 1));
        assertThrows(IllegalArgumentException.class, () -> Partitioner.partition(10, 3, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> Partitioner.partition(10, 3, -1));
    }

    private static void assertValidSplit(int[][] split, int count, int parts, String context) {
        assertEquals(parts, split.length, context);
        boolean[] seen = new boolean[count];
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (int[] part : split) {
            min = Math.min(min, part.length);
            max = Math.max(max, part.length);
            for (int index : part) {
                assertTrue(index >= 0 && index < count, context + ": index " + index + " out of range");
                assertFalse(seen[index], context + ": index " + index + " in two partitions");
                seen[index] = true;
            }
        }
        for (int i = 0; i < count; i++) {
            assertTrue(seen[i], context + ": index " + i + " in no partition");
        }
        assertTrue(max - min <= 1, context + ": sizes range from " + min + " to " + max);
        assertTrue(min >= 1, context + ": empty partition");
    }
}
