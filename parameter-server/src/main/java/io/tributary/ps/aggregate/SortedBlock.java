package io.tributary.ps.aggregate;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A block of coordinates of the T slots, copied into T rows and sorted per coordinate (column):
 * after {@link #sort}, row r holds the r-th smallest value of each coordinate. The sort is an
 * odd-even transposition network run down the rows with vector min/max, so the lanes are
 * coordinates and there is no data-dependent branch: T rounds of compare-exchanges between
 * neighbouring rows (T &lt;= a few dozen, so T^2/2 compare-exchanges per coordinate stay cheap).
 */
final class SortedBlock {

    private static final VectorSpecies<Float> S = Lanes.S;
    /** Coordinates per block: T rows of it stay in L1. */
    static final int BLOCK = 512;

    private final float[] rows;

    SortedBlock(int maxTrainers) {
        this.rows = new float[maxTrainers * BLOCK];
    }

    /** Row {@code r}'s values start at {@code rows()[offset(r)]}. */
    float[] rows() {
        return rows;
    }

    static int offset(int row) {
        return row * BLOCK;
    }

    /** Copies coordinates {@code [start, start + n)} of the {@code count} slots into rows and sorts each column. */
    void loadSorted(float[][] slots, int[] which, int count, int start, int n) {
        for (int t = 0; t < count; t++) {
            System.arraycopy(slots[which[t]], start, rows, t * BLOCK, n);
        }
        int vectorEnd = S.loopBound(n);
        for (int round = 0; round < count; round++) {
            for (int a = round & 1; a + 1 < count; a += 2) {
                compareExchange(a * BLOCK, (a + 1) * BLOCK, vectorEnd, n);
            }
        }
    }

    /** Per coordinate, the smaller of rows a and b goes to a and the larger to b. */
    private void compareExchange(int a, int b, int vectorEnd, int n) {
        float[] r = rows;
        int j = 0;
        for (; j < vectorEnd; j += S.length()) {
            FloatVector x = FloatVector.fromArray(S, r, a + j);
            FloatVector y = FloatVector.fromArray(S, r, b + j);
            x.min(y).intoArray(r, a + j);
            x.max(y).intoArray(r, b + j);
        }
        for (; j < n; j++) {
            float x = r[a + j];
            float y = r[b + j];
            r[a + j] = Math.min(x, y);
            r[b + j] = Math.max(x, y);
        }
    }
}
