package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tributary.protocol.WorkPlan;
import org.junit.jupiter.api.Test;

/** The planner's range builder: positions at most once, in the order added, touching ranges joined. */
class RangeListTest {

    @Test
    void overlapsAreSkippedAndTouchingRangesJoin() {
        RangeList list = new RangeList(2);
        list.add(10, 20);
        list.add(15, 30); // only [20, 30) is new, and it touches [10, 20)
        list.add(0, 12); // only [0, 10) is new
        list.add(40, 41);
        list.add(40, 41);
        assertArrayEquals(new int[] {10, 30, 0, 10, 40, 41}, list.toArray());
        assertEquals(31, list.length());
    }

    @Test
    void positionsSetBeforehandAreKeptOut() {
        RangeList list = new RangeList(4);
        list.added.set(3, 5);
        list.add(0, 8);
        assertArrayEquals(new int[] {0, 3, 5, 8}, list.toArray());
    }

    @Test
    void virtualPositionsOfAPlanMapToItsSequenceRanges() {
        // the plan's virtual sequence is [100, 104) then [200, 206): virtual [2, 7) is [102, 104) + [200, 203)
        WorkPlan p = new WorkPlan(1, 0, 0, 0, 1, new int[] {100, 104, 200, 206}, new int[] {0}, new int[] {1}, true, 1);
        RangeList list = new RangeList(0);
        list.addVirtual(p, 2, 7);
        assertArrayEquals(new int[] {102, 104, 200, 203}, list.toArray());
        assertEquals(10, RangeList.length(new int[] {100, 104, 200, 206}, 4));
    }
}
