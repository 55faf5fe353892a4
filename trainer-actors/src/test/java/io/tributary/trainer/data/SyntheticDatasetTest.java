package io.tributary.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SyntheticDatasetTest {
    @Test
    void sameArgumentsGiveIdenticalData() {
        Dataset a = SyntheticDataset.generate(500, 16, 4, 123);
        Dataset b = SyntheticDataset.generate(500, 16, 4, 123);

        assertArrayEquals(a.featureValues(), b.featureValues());
        assertArrayEquals(a.labels(), b.labels());
        assertEquals(a.name(), b.name());
    }

    @Test
    void otherSeedGivesOtherData() {
        Dataset a = SyntheticDataset.generate(500, 16, 4, 123);
        Dataset b = SyntheticDataset.generate(500, 16, 4, 124);

        assertFalse(Arrays.equals(a.featureValues(), b.featureValues()));
    }

    @Test
    void valuesLieInUnitRangeAndClassesAreBalanced() {
        Dataset data = SyntheticDataset.generate(1003, 8, 10, 5);
        for (float v : data.featureValues()) {
            assertTrue(v >= 0f && v <= 1f, "value " + v);
        }
        int[] histogram = new int[10];
        for (int row = 0; row < data.count(); row++) {
            histogram[data.label(row)]++;
        }
        for (int h : histogram) {
            assertTrue(h == 100 || h == 101, Arrays.toString(histogram));
        }
    }

    /** A nearest-centroid classifier is a weak stand-in for an MLP: if it learns the task, an MLP will. */
    @Test
    void taskIsLearnableByNearestCentroid() {
        int features = 20;
        int classes = 10;
        Dataset data = SyntheticDataset.generate(4000, features, classes, 99);
        int trainRows = 3000;
        float[] x = data.featureValues();

        double[] centroids = new double[classes * features];
        int[] counts = new int[classes];
        for (int row = 0; row < trainRows; row++) {
            int label = data.label(row);
            counts[label]++;
            for (int f = 0; f < features; f++) {
                centroids[label * features + f] += x[row * features + f];
            }
        }
        for (int c = 0; c < classes; c++) {
            for (int f = 0; f < features; f++) {
                centroids[c * features + f] /= counts[c];
            }
        }

        int correct = 0;
        for (int row = trainRows; row < data.count(); row++) {
            int best = -1;
            double bestDistance = Double.MAX_VALUE;
            for (int c = 0; c < classes; c++) {
                double d = 0;
                for (int f = 0; f < features; f++) {
                    double diff = x[row * features + f] - centroids[c * features + f];
                    d += diff * diff;
                }
                if (d < bestDistance) {
                    bestDistance = d;
                    best = c;
                }
            }
            if (best == data.label(row)) {
                correct++;
            }
        }
        double accuracy = correct / (double) (data.count() - trainRows);
        assertTrue(accuracy > 0.95, "held-out nearest-centroid accuracy " + accuracy);
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> SyntheticDataset.generate(0, 4, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> SyntheticDataset.generate(10, 0, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> SyntheticDataset.generate(10, 4, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> SyntheticDataset.generate(10, 4, 2, 1, -0.1));
    }
}
