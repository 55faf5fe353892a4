package io.tributary.trainer.data;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code tributary.data}, read once and checked: which set, where its files are, and how many
 * samples of each part a run uses.
 *
 * @param set        the data set
 * @param dir        the MNIST directory; null for the default ({@link MnistIdx#defaultDirectory()})
 * @param seed       {@code tributary.train.seed}: the synthetic set is generated from it
 * @param trainLimit use only the first N training samples (0: all)
 * @param testLimit  use only the first N test samples (0: all)
 */
public record DataSettings(Set set, Path dir, long seed, int trainLimit, int testLimit) {

    /** The data sets Tributary reads. */
    public enum Set {
        /** The MNIST IDX files. */
        MNIST,
        /** Generated, of the model's widths: for tests and smoke runs. */
        SYNTHETIC;

        static Set parse(String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tributary.data.set = '" + value + "' is unknown: use mnist or synthetic",
                        e);
            }
        }
    }

    public DataSettings {
        if (set == null) {
            throw new IllegalArgumentException("tributary.data.set must be mnist or synthetic");
        }
        if (trainLimit < 0) {
            throw new IllegalArgumentException("tributary.data.train-limit = " + trainLimit + " is invalid: use 0 (all) "
                    + "or a positive number of samples");
        }
        if (testLimit < 0) {
            throw new IllegalArgumentException("tributary.data.test-limit = " + testLimit + " is invalid: use 0 (all) "
                    + "or a positive number of samples");
        }
    }

    public static DataSettings from(Config root) {
        Config c = root.getConfig("tributary.data");
        String dir = c.getString("dir").trim();
        return new DataSettings(Set.parse(c.getString("set")), dir.isEmpty() ? null : Path.of(dir),
                root.getLong("tributary.train.seed"), c.getInt("train-limit"), c.getInt("test-limit"));
    }

    /** The MNIST directory to read. */
    public Path mnistDirectory() {
        return dir != null ? dir : MnistIdx.defaultDirectory();
    }
}
