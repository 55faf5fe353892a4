package io.tributary.trainer.data;

import java.util.Objects;

/**
 * Serves one partition of a {@link Dataset} as mini-batches, in a fresh seeded order each
 * epoch. The order of epoch {@code e} depends only on (seed, e), so a trainer that takes
 * over a partition mid-run can resume the same sequence.
 *
 * <p>Nothing is allocated after construction: {@link #features()} and {@link #labels()}
 * return the same arrays every time, overwritten by each {@link #next()}.
 *
 * <pre>{@code
 * for (int epoch = 0; epoch < epochs; epoch++) {
 *     batches.startEpoch(epoch);
 *     while (batches.next()) {
 *         step(batches.features(), batches.labels(), batches.size());
 *     }
 * }
 * }</pre>
 */
public final class BatchIterator {
    /** What to do with the samples left over when the partition is not a multiple of the batch size. */
    public enum PartialBatch {
        /** Serve them as a last, smaller batch: every sample is seen once per epoch. */
        SERVE,
        /** Skip them: every batch is full; a different set is skipped each epoch. */
        DROP
    }

    private final Dataset dataset;
    private final int[] partition;
    private final int[] order;
    private final int batchSize;
    private final PartialBatch partialBatch;
    private final long seed;
    private final float[] x;
    private final float[] y;
    private final SeededShuffle shuffle = new SeededShuffle(0);

    private int epoch;
    private int nextStart;
    private int batchStart;
    private int size;
    private int batchIndex;

    /**
     * @param partition the dataset rows this iterator owns, e.g. from {@link Partitioner}; copied
     * @throws IllegalArgumentException when a row is out of range, or no batch could ever be served
     */
    public BatchIterator(Dataset dataset, int[] partition, int batchSize, PartialBatch partialBatch, long seed) {
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(partition, "partition");
        this.partialBatch = Objects.requireNonNull(partialBatch, "partialBatch");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (partition.length == 0) {
            throw new IllegalArgumentException("partition of dataset '" + dataset.name() + "' is empty");
        }
        if (partialBatch == PartialBatch.DROP && partition.length < batchSize) {
            throw new IllegalArgumentException("partition of " + partition.length + " samples is smaller than batch size "
                    + batchSize + " with PartialBatch.DROP, so no batch would ever be served;"
                    + " lower the batch size or use PartialBatch.SERVE");
        }
        for (int i = 0; i < partition.length; i++) {
            if (partition[i] < 0 || partition[i] >= dataset.count()) {
                throw new IllegalArgumentException("partition entry " + i + " is row " + partition[i]
                        + ", outside dataset '" + dataset.name() + "' (0.." + (dataset.count() - 1) + ")");
            }
        }
        this.partition = partition.clone();
        this.order = new int[partition.length];
        this.batchSize = batchSize;
        this.seed = seed;
        this.x = new float[Math.multiplyExact(batchSize, dataset.features())];
        this.y = new float[batchSize];
        startEpoch(0);
    }

    /** Reshuffles for {@code epoch} and rewinds; the order is a function of (seed, epoch) only. */
    public void startEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        System.arraycopy(partition, 0, order, 0, partition.length);
        shuffle.reseed(SeededShuffle.derive(seed, epoch));
        shuffle.shuffle(order, 0, order.length);
        this.epoch = epoch;
        this.nextStart = 0;
        this.batchStart = 0;
        this.size = 0;
        this.batchIndex = -1;
    }

    /** Starts the epoch after the current one. */
    public void nextEpoch() {
        startEpoch(epoch + 1);
    }

    /**
     * Loads the next batch of the current epoch into {@link #features()} and {@link #labels()}.
     *
     * @return false when the epoch is exhausted (the buffers then keep the last batch)
     */
    public boolean next() {
        int remaining = order.length - nextStart;
        int n = Math.min(batchSize, remaining);
        if (n == 0 || (n < batchSize && partialBatch == PartialBatch.DROP)) {
            return false;
        }
        dataset.copyBatch(order, nextStart, n, x, y);
        batchStart = nextStart;
        nextStart += n;
        size = n;
        batchIndex++;
        return true;
    }

    /** Rows in the current batch: {@code batchSize}, or fewer for a served partial batch. */
    public int size() {
        return size;
    }

    /** Row-major {@code size() x features} values of the current batch; reused, beyond {@code size()} rows stale. */
    public float[] features() {
        return x;
    }

    /** Class indices (as float) of the current batch; reused, beyond {@code size()} entries stale. */
    public float[] labels() {
        return y;
    }

    /** The dataset row behind entry {@code i} of the current batch. */
    public int row(int i) {
        Objects.checkIndex(i, size);
        return order[batchStart + i];
    }

    public int epoch() {
        return epoch;
    }

    /** Zero-based index of the current batch within the epoch; -1 before the first {@link #next()}. */
    public int batchIndex() {
        return batchIndex;
    }

    /** Batches served per epoch under the {@link PartialBatch} policy. */
    public int batchesPerEpoch() {
        int full = order.length / batchSize;
        return partialBatch == PartialBatch.SERVE && order.length % batchSize != 0 ? full + 1 : full;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Samples this iterator owns. */
    public int partitionSize() {
        return order.length;
    }

    public Dataset dataset() {
        return dataset;
    }

    @Override
    public String toString() {
        return "BatchIterator[" + dataset.name() + ", " + order.length + " rows, batch " + batchSize + ", "
                + partialBatch + ", epoch " + epoch + "]";
    }
}
