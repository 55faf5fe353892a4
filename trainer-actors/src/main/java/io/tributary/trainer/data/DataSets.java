package io.tributary.trainer.data;

import com.typesafe.config.Config;

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

    /** {@link #load(DataSettings, boolean, int, int)} with the settings of {@code config}. */
    public static Dataset load(Config config, boolean training, int features, int classes) {
        return load(DataSettings.from(config), training, features, classes);
    }

    /**
     * @param features inputs per sample (the model's first width), used by the synthetic set
     * @param classes  classes (the model's last width), used by the synthetic set
     */
    public static Dataset load(DataSettings settings, boolean training, int features, int classes) {
        Dataset d = switch (settings.set()) {
            case MNIST -> training ? MnistIdx.loadTrain(settings.mnistDirectory())
                    : MnistIdx.loadTest(settings.mnistDirectory());
            case SYNTHETIC -> {
                Dataset all = SyntheticDataset.generate(SYNTHETIC_TRAIN + SYNTHETIC_TEST, features, classes,
                        settings.seed());
                int[] rows = new int[training ? SYNTHETIC_TRAIN : SYNTHETIC_TEST];
                for (int i = 0; i < rows.length; i++) {
                    rows[i] = (training ? 0 : SYNTHETIC_TRAIN) + i;
                }
                yield all.subset(rows);
            }
        };
        int limit = training ? settings.trainLimit() : settings.testLimit();
        return limit > 0 && limit < d.count() ? d.head(limit) : d;
    }

    /** How many training samples {@link #load} will give, without reading them. */
    public static int trainCount(Config config) {
        return trainCount(DataSettings.from(config));
    }

    /** How many training samples {@link #load} will give, without reading them. */
    public static int trainCount(DataSettings settings) {
        int full = settings.set() == DataSettings.Set.SYNTHETIC ? SYNTHETIC_TRAIN : 60_000;
        return settings.trainLimit() > 0 ? Math.min(settings.trainLimit(), full) : full;
    }
}
