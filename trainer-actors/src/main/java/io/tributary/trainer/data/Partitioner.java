package io.tributary.trainer.data;

import java.util.Arrays;

/**
 * Splits sample indices {@code 0 .. count-1} into disjoint partitions, one per trainer,
 * that together cover every sample exactly once and differ in size by at most one.
 *
 * <p>With a seed the samples are shuffled first, so partitions are not contiguous runs
 * of the (often sorted) source file; the result depends only on the arguments, so any
 * node can compute any trainer's partition on its own. Each partition is sorted.
 */
public final class Partitioner {
    private Partitioner() {
    }

    /** Contiguous, unshuffled partitions: partition {@code i} is one run of consecutive indices. */
    public static int[][] split(int count, int parts) {
        check(count, parts);
        int[] order = identity(count);
        return cut(order, parts);
    }

    /** Partitions of a seeded shuffle of all indices. */
    public static int[][] split(int count, int parts, long seed) {
        check(count, parts);
        return cut(shuffled(count, seed), parts);
    }

    /** Partition {@code index} of {@link #split(int, int, long)}, without building the others. */
    public static int[] partition(int count, int parts, int index, long seed) {
        check(count, parts);
        checkIndex(parts, index);
        return slice(shuffled(count, seed), parts, index);
    }

    /** Partition {@code index} of {@link #split(int, int)}. */
    public static int[] partition(int count, int parts, int index) {
        check(count, parts);
        checkIndex(parts, index);
        return slice(identity(count), parts, index);
    }

    /** The size of partition {@code index}: the first {@code count % parts} partitions get one extra sample. */
    public static int partitionSize(int count, int parts, int index) {
        check(count, parts);
        checkIndex(parts, index);
        return count / parts + (index < count % parts ? 1 : 0);
    }

    private static int[][] cut(int[] order, int parts) {
        int[][] result = new int[parts][];
        for (int p = 0; p < parts; p++) {
            result[p] = slice(order, parts, p);
        }
        return result;
    }

    private static int[] slice(int[] order, int parts, int index) {
        int count = order.length;
        int base = count / parts;
        int extra = count % parts;
        int start = index * base + Math.min(index, extra);
        int size = base + (index < extra ? 1 : 0);
        int[] part = Arrays.copyOfRange(order, start, start + size);
        Arrays.sort(part);
        return part;
    }

    private static int[] shuffled(int count, long seed) {
        int[] order = identity(count);
        new SeededShuffle(seed).shuffle(order, 0, count);
        return order;
    }

    private static int[] identity(int count) {
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        return order;
    }

    private static void check(int count, int parts) {
        if (count < 1) {
            throw new IllegalArgumentException("cannot partition " + count + " samples: need at least one sample");
        }
        if (parts < 1) {
            throw new IllegalArgumentException("cannot split into " + parts + " partitions: need at least one");
        }
        if (parts > count) {
            throw new IllegalArgumentException("cannot split " + count + " samples into " + parts
                    + " partitions: every partition needs at least one sample; use at most " + count + " parts");
        }
    }

    private static void checkIndex(int parts, int index) {
        if (index < 0 || index >= parts) {
            throw new IllegalArgumentException("partition index " + index + " is outside 0.." + (parts - 1));
        }
    }
}
