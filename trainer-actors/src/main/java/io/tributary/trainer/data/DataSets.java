package io.tributary.trainer.data;

import com.typesafe.config.Config;
import java.nio.file.Path;

/**
 * The training and test sets a run uses, as {@code tributary.data} configures them: the MNIST IDX
 * files, or a generated set of the model's input width (for tests and smoke runs), each cut to
 * {@code train-limit} / {@code test-limit} samples when those are set.
 */
public final class DataSets {

    /** Samples of the generated training set; the test set follows them. */
    public static final int SYNTHETIC_TRAIN = 10_000;
    /** Samples of the generated test set. */
    public static final int SYNTHETIC_TEST = 2_000;

    private DataSets() {
    }

    /**
     * @param features inputs per sample (the model's first width), used by the synthetic set
     * @param classes  classes (the model's last width), used by the synthetic set
     */
    public static Dataset load(Config config, boolean training, int features, int classes) {
        String set = config.getString("tributary.data.set");
        Dataset d;
        switch (set) {
            case "mnist" -> {
                String dir = config.getString("tributary.data.dir");
                Path path = dir.isEmpty() ? MnistIdx.defaultDirectory() : Path.of(dir);
                d = training ? MnistIdx.loadTrain(path) : MnistIdx.loadTest(path);
            }
            case "synthetic" -> {
                Dataset all = SyntheticDataset.generate(SYNTHETIC_TRAIN + SYNTHETIC_TEST, features, classes,
                        config.getLong("tributary.train.seed"));
                int[] rows = new int[training ? SYNTHETIC_TRAIN : SYNTHETIC_TEST];
                for (int i = 0; i < rows.length; i++) {
                    rows[i] = (training ? 0 : SYNTHETIC_TRAIN) + i;
                }
                d = all.subset(rows);
            }
            default -> throw new IllegalArgumentException("tributary.data.set = '" + set
                    + "' is unknown: use mnist or synthetic");
        }
        int limit = config.getInt(training ? "tributary.data.train-limit" : "tributary.data.test-limit");
        return limit > 0 && limit < d.count() ? d.head(limit) : d;
    }

    /** How many training samples {@link #load} will give, without reading them. */
    public static int trainCount(Config config) {
        int limit = config.getInt("tributary.data.train-limit");
        int full = "synthetic".equals(config.getString("tributary.data.set")) ? SYNTHETIC_TRAIN : 60_000;
        return limit > 0 ? Math.min(limit, full) : full;
    }
}
