package io.tributary.trainer.data;

import java.util.Objects;

/**
 * A labelled classification data set held in memory: {@code count} rows of
 * {@code features} floats each (row-major) and one class index per row, stored as a
 * float so a batch can be handed to the math code as is.
 *
 * <p>The arrays are shared, not copied, because MNIST alone is ~190 MB of floats; callers
 * must treat {@link #featureValues()} and {@link #labels()} as read-only.
 */
public final class Dataset {
    private final String name;
    private final int count;
    private final int features;
    private final int classes;
    private final float[] featureValues;
    private final float[] labels;
    /** Labels per row: 1 for classification, the window's length for next-token prediction. */
    private final int labelWidth;

    /**
     * @param featureValues row-major {@code count x features} values, normally in [0, 1]
     * @param labels one class index per row, each an integer value in {@code [0, classes)}
     * @throws IllegalArgumentException naming the argument that is inconsistent
     */
    public Dataset(String name, int count, int features, int classes, float[] featureValues, float[] labels) {
        this(name, count, features, classes, featureValues, labels, 1);
    }

    /**
     * Windows of a token sequence: each row holds {@code width} token ids as features and the
     * {@code width} next tokens as its labels (each a class of {@code vocabulary}).
     */
    public static Dataset sequences(String name, int count, int width, int vocabulary, float[] ids, float[] targets) {
        return new Dataset(name, count, width, vocabulary, ids, targets, width);
    }

    private Dataset(String name, int count, int features, int classes, float[] featureValues, float[] labels,
                    int labelWidth) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(featureValues, "featureValues");
        Objects.requireNonNull(labels, "labels");
        if (count < 0) {
            throw new IllegalArgumentException("dataset '" + name + "': count must be >= 0, got " + count);
        }
        if (features < 1) {
            throw new IllegalArgumentException("dataset '" + name + "': features must be >= 1, got " + features);
        }
        if (classes < 1) {
            throw new IllegalArgumentException("dataset '" + name + "': classes must be >= 1, got " + classes);
        }
        long expectedValues = (long) count * features;
        if (featureValues.length != expectedValues) {
            throw new IllegalArgumentException("dataset '" + name + "': featureValues has " + featureValues.length
                    + " floats but count x features = " + count + " x " + features + " = " + expectedValues);
        }
        if (labels.length != (long) count * labelWidth) {
            throw new IllegalArgumentException("dataset '" + name + "': labels has " + labels.length
                    + " entries but count is " + count + (labelWidth == 1 ? "" : " rows of " + labelWidth));
        }
        for (int i = 0; i < labels.length; i++) {
            float label = labels[i];
            if (!(label >= 0 && label < classes) || label != (int) label) {
                throw new IllegalArgumentException("dataset '" + name + "': label " + label + " at row " + i / labelWidth
                        + " is not a class index in 0.." + (classes - 1));
            }
        }
        this.name = name;
        this.count = count;
        this.features = features;
        this.classes = classes;
        this.featureValues = featureValues;
        this.labels = labels;
        this.labelWidth = labelWidth;
    }

    /** Labels per row (1 for classification). */
    public int labelWidth() {
        return labelWidth;
    }

    public String name() {
        return name;
    }

    /** Number of rows (samples). */
    public int count() {
        return count;
    }

    /** Number of features per row. */
    public int features() {
        return features;
    }

    /** Number of classes; labels are in {@code [0, classes)}. */
    public int classes() {
        return classes;
    }

    /** The shared row-major feature matrix; do not modify. */
    public float[] featureValues() {
        return featureValues;
    }

    /** The shared label vector (class indices as floats, {@link #labelWidth()} per row); do not modify. */
    public float[] labels() {
        return labels;
    }

    /** The class index of one row (its first label). */
    public int label(int row) {
        Objects.checkIndex(row, count);
        return (int) labels[row * labelWidth];
    }

    /**
     * Gathers rows {@code indices[from .. from + batchSize)} into {@code xOut}
     * (row-major, {@code batchSize x features}) and their labels into {@code yOut}.
     * Allocates nothing; only the first {@code batchSize} rows of the outputs are written.
     */
    public void copyBatch(int[] indices, int from, int batchSize, float[] xOut, float[] yOut) {
        Objects.checkFromIndexSize(from, batchSize, indices.length);
        if (xOut.length < (long) batchSize * features) {
            throw new IllegalArgumentException("xOut holds " + xOut.length + " floats, a batch of " + batchSize
                    + " rows x " + features + " features needs " + (long) batchSize * features);
        }
        if (yOut.length < (long) batchSize * labelWidth) {
            throw new IllegalArgumentException("yOut holds " + yOut.length + " floats, a batch needs "
                    + (long) batchSize * labelWidth);
        }
        for (int i = 0; i < batchSize; i++) {
            int row = indices[from + i];
            Objects.checkIndex(row, count);
            System.arraycopy(featureValues, row * features, xOut, i * features, features);
            if (labelWidth == 1) {
                yOut[i] = labels[row];
            } else {
                System.arraycopy(labels, row * labelWidth, yOut, i * labelWidth, labelWidth);
            }
        }
    }

    /** A new data set holding copies of the given rows, in the given order. */
    public Dataset subset(int[] rows) {
        Objects.requireNonNull(rows, "rows");
        return copyOf(rows, name + "[subset of " + rows.length + "]");
    }

    /** A new data set holding copies of the first {@code n} rows. */
    public Dataset head(int n) {
        if (n < 0 || n > count) {
            throw new IllegalArgumentException("dataset '" + name + "': head(" + n + ") needs 0 <= n <= " + count);
        }
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        return copyOf(rows, name + "[head " + n + "]");
    }

    private Dataset copyOf(int[] rows, String newName) {
        float[] x = new float[Math.multiplyExact(rows.length, features)];
        float[] y = new float[Math.multiplyExact(rows.length, labelWidth)];
        copyBatch(rows, 0, rows.length, x, y);
        return new Dataset(newName, rows.length, features, classes, x, y, labelWidth);
    }

    @Override
    public String toString() {
        return "Dataset[" + name + ", " + count + " rows x " + features + " features, " + classes + " classes]";
    }
}
