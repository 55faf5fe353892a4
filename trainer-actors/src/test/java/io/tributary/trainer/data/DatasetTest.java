package io.tributary.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DatasetTest {
    /** Three rows of two features; row r holds (r, r + 0.5) scaled down, label r. */
    private static Dataset threeRows() {
        return new Dataset("tiny", 3, 2, 3,
                new float[] {0.0f, 0.05f, 0.1f, 0.15f, 0.2f, 0.25f},
                new float[] {0, 1, 2});
    }

    @Test
    void copyBatchGathersTheIndexedRowsInOrder() {
        Dataset data = threeRows();
        float[] x = new float[6];
        float[] y = new float[3];

        data.copyBatch(new int[] {9, 2, 0, 9}, 1, 2, x, y);

        assertArrayEquals(new float[] {0.2f, 0.25f, 0.0f, 0.05f, 0, 0}, x);
        assertArrayEquals(new float[] {2, 0, 0}, y);
    }

    @Test
    void copyBatchRejectsTooSmallOutputsAndBadIndices() {
        Dataset data = threeRows();
        assertThrows(IllegalArgumentException.class, () -> data.copyBatch(new int[] {0, 1}, 0, 2, new float[3], new float[2]));
        assertThrows(IllegalArgumentException.class, () -> data.copyBatch(new int[] {0, 1}, 0, 2, new float[4], new float[1]));
        assertThrows(IndexOutOfBoundsException.class, () -> data.copyBatch(new int[] {0, 3}, 0, 2, new float[4], new float[2]));
        assertThrows(IndexOutOfBoundsException.class, () -> data.copyBatch(new int[] {0, 1}, 1, 2, new float[4], new float[2]));
    }

    @Test
    void subsetAndHeadCopyRows() {
        Dataset data = threeRows();

        Dataset subset = data.subset(new int[] {2, 1});
        Dataset head = data.head(2);

        assertEquals(2, subset.count());
        assertArrayEquals(new float[] {0.2f, 0.25f, 0.1f, 0.15f}, subset.featureValues());
        assertArrayEquals(new float[] {2, 1}, subset.labels());
        assertEquals(3, subset.classes());
        assertArrayEquals(new float[] {0.0f, 0.05f, 0.1f, 0.15f}, head.featureValues());
        assertArrayEquals(new float[] {0, 1}, head.labels());
        assertThrows(IllegalArgumentException.class, () -> data.head(4));
    }

    @Test
    void inconsistentConstructorArgumentsNameTheProblem() {
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> new Dataset("d", 3, 2, 3, new float[5], new float[3]));
        assertTrue(shape.getMessage().contains("3 x 2"), shape.getMessage());

        IllegalArgumentException labels = assertThrows(IllegalArgumentException.class,
                () -> new Dataset("d", 3, 2, 3, new float[6], new float[2]));
        assertTrue(labels.getMessage().contains("labels has 2"), labels.getMessage());

        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> new Dataset("d", 2, 1, 3, new float[2], new float[] {0, 3}));
        assertTrue(range.getMessage().contains("row 1"), range.getMessage());

        assertThrows(IllegalArgumentException.class, () -> new Dataset("d", 1, 1, 3, new float[1], new float[] {0.5f}));
        assertThrows(IllegalArgumentException.class, () -> new Dataset("d", 1, 0, 3, new float[0], new float[1]));
        assertThrows(NullPointerException.class, () -> new Dataset(null, 1, 1, 3, new float[1], new float[1]));
    }
}
