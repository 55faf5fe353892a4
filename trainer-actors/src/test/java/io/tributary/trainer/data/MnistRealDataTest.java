package io.tributary.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Checks the real MNIST files when scripts/fetch-mnist.sh has put them in the default cache. */
class MnistRealDataTest {
    private static final Path DIR = MnistIdx.defaultDirectory();

    @Test
    void realTrainingSetHas60000PlausibleImages() {
        assumeFilesPresent(MnistIdx.TRAIN_IMAGES, MnistIdx.TRAIN_LABELS);

        Dataset train = MnistIdx.loadTrain(DIR);

        assertEquals(60_000, train.count());
        assertPlausibleMnist(train);
    }

    @Test
    void realTestSetHas10000PlausibleImages() {
        assumeFilesPresent(MnistIdx.TEST_IMAGES, MnistIdx.TEST_LABELS);

        Dataset test = MnistIdx.loadTest(DIR);

        assertEquals(10_000, test.count());
        assertPlausibleMnist(test);
    }

    private static void assertPlausibleMnist(Dataset data) {
        assertEquals(28 * 28, data.features());
        assertEquals(10, data.classes());
        int[] histogram = new int[10];
        for (int row = 0; row < data.count(); row++) {
            histogram[data.label(row)]++;
        }
        // Every digit makes up roughly a tenth of MNIST (8.9% to 11.4% in both splits).
        for (int digit = 0; digit < 10; digit++) {
            double share = histogram[digit] / (double) data.count();
            assertTrue(share > 0.08 && share < 0.125, "digit " + digit + " share " + share + " of " + data.name());
        }
        double sum = 0;
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : data.featureValues()) {
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double mean = sum / data.featureValues().length;
        assertEquals(0f, min);
        assertEquals(1f, max);
        // MNIST is mostly background: the mean pixel is about 0.13.
        assertTrue(mean > 0.10 && mean < 0.16, "mean pixel " + mean);
    }

    private static void assumeFilesPresent(String... names) {
        for (String name : names) {
            Path file = DIR.resolve(name);
            assumeTrue(Files.isRegularFile(file) || Files.isRegularFile(DIR.resolve(name + ".gz")),
                    () -> file + " not present; run scripts/fetch-mnist.sh to enable this test");
        }
    }
}
