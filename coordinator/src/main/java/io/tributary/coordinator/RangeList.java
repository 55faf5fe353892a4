package io.tributary.coordinator;

import io.tributary.protocol.WorkPlan;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Sequence ranges {@code [a, b)} in the order added, each position at most once: a position added
 * before is skipped, and a range that starts where the last one ends joins it. The planner builds
 * a new plan's ranges with it.
 */
final class RangeList {

    /** Every position added so far (callers may pre-set positions to keep out). */
    final BitSet added = new BitSet();
    private int[] data;
    private int n;
    private int[] scratch = new int[8];

    RangeList(int capacity) {
        data = new int[Math.max(4, capacity)];
    }

    /** Adds the sequence positions behind {@code p}'s virtual positions [start, end). */
    void addVirtual(WorkPlan p, long start, long end) {
        if (scratch.length < p.ranges().length + 2) {
            scratch = new int[p.ranges().length + 2];
        }
        int k = p.rangesOf(start, end, scratch, 0);
        for (int i = 0; i < k; i += 2) {
            add(scratch[i], scratch[i + 1]);
        }
    }

    /** Adds [a, b) less what was added before. */
    void add(int a, int b) {
        int x = a;
        while (x < b) {
            int next = added.nextSetBit(x);
            int stop = next < 0 || next > b ? b : next;
            if (stop > x) {
                append(x, stop);
            }
            x = next < 0 || next >= b ? b : added.nextClearBit(next);
        }
        added.set(a, b);
    }

    private void append(int a, int b) {
        if (n > 0 && data[n - 1] == a) {
            data[n - 1] = b; // joins the range before it
            return;
        }
        if (n + 2 > data.length) {
            data = Arrays.copyOf(data, data.length * 2);
        }
        data[n++] = a;
        data[n++] = b;
    }

    /** Positions in the ranges. */
    long length() {
        return length(data, n);
    }

    /** The ranges as {@code [a0, b0, a1, b1, ...]}. */
    int[] toArray() {
        return Arrays.copyOf(data, n);
    }

    /** Positions in the first {@code n / 2} ranges of {@code ranges}. */
    static long length(int[] ranges, int n) {
        long len = 0;
        for (int i = 0; i < n; i += 2) {
            len += ranges[i + 1] - ranges[i];
        }
        return len;
    }
}
