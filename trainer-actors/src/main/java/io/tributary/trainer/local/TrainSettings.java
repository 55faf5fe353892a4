package io.tributary.trainer.local;

import com.typesafe.config.Config;

/**
 * How a training run iterates: epochs, mini-batch size and the seed behind initialisation and
 * shuffling. Read from {@code tributary.train}.
 */
public record TrainSettings(int epochs, int batchSize, long seed) {

    public TrainSettings {
        if (epochs < 1) {
            throw new IllegalArgumentException("tributary.train.epochs = " + epochs + " is invalid: it must be >= 1");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("tributary.train.batch-size = " + batchSize + " is invalid: it must be >= 1");
        }
    }

    public static TrainSettings from(Config root) {
        Config c = root.getConfig("tributary.train");
        return new TrainSettings(c.getInt("epochs"), c.getInt("batch-size"), c.getLong("seed"));
    }
}
