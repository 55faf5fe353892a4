package io.tributary.trainer.data;

import java.util.Random;

/**
 * A seeded, learnable stand-in for MNIST in fast tests: each class has a random prototype
 * vector in [0, 1]^features, and each sample is its class prototype plus Gaussian noise,
 * clipped to [0, 1]. Classes are balanced and the row order is shuffled.
 */
public final class SyntheticDataset {
    /** Noise that keeps classes well apart for 8+ features yet makes the task non-trivial. */
    public static final double DEFAULT_NOISE = 0.1;

    private SyntheticDataset() {
    }

    /** Same as {@link #generate(int, int, int, long, double)} with {@link #DEFAULT_NOISE}. */
    public static Dataset generate(int count, int features, int classes, long seed) {
        return generate(count, features, classes, seed, DEFAULT_NOISE);
    }

    /**
     * @param noise standard deviation of the per-feature Gaussian noise around a prototype
     * @return the same data for the same arguments, on every JVM ({@link Random} is specified)
     */
    public static Dataset generate(int count, int features, int classes, long seed, double noise) {
        if (count < 1) {
            throw new IllegalArgumentException("synthetic dataset: count must be >= 1, got " + count);
        }
        if (features < 1) {
            throw new IllegalArgumentException("synthetic dataset: features must be >= 1, got " + features);
        }
        if (classes < 2) {
            throw new IllegalArgumentException("synthetic dataset: classes must be >= 2, got " + classes);
        }
        if (!(noise >= 0) || Double.isInfinite(noise)) {
            throw new IllegalArgumentException("synthetic dataset: noise must be a finite value >= 0, got " + noise);
        }
        Random random = new Random(seed);
        float[] prototypes = new float[Math.multiplyExact(classes, features)];
        for (int i = 0; i < prototypes.length; i++) {
            prototypes[i] = random.nextFloat();
        }

        int[] labelOf = new int[count];
        for (int i = 0; i < count; i++) {
            labelOf[i] = i % classes;
        }
        new SeededShuffle(random.nextLong()).shuffle(labelOf, 0, count);

        float[] x = new float[Math.multiplyExact(count, features)];
        float[] y = new float[count];
        for (int row = 0; row < count; row++) {
            int label = labelOf[row];
            y[row] = label;
            int proto = label * features;
            int out = row * features;
            for (int f = 0; f < features; f++) {
                double v = prototypes[proto + f] + noise * random.nextGaussian();
                x[out + f] = (float) Math.min(1.0, Math.max(0.0, v));
            }
        }
        String name = "synthetic-" + count + "x" + features + "-c" + classes + "-seed" + seed;
        return new Dataset(name, count, features, classes, x, y);
    }
}
