package io.tributary.trainer.data;

/**
 * The order in which one epoch's samples are trained, the same on every node: the dataset is cut
 * into {@code parts} partitions ({@link Partitioner}, seeded), each shuffled per epoch exactly as
 * a {@link BatchIterator} of that partition shuffles it, and step {@code j}'s {@code parts * batch}
 * positions hold batch {@code j} of partition 0, then of partition 1, and so on. A work plan that
 * gives trainer {@code i} of {@code parts} equal trainers the {@code i}-th slice of every step thus
 * trains exactly what a fixed partition {@code i} would; a plan that moves samples between
 * trainers addresses the same positions.
 *
 * <p>{@link #startEpoch(int)} refills the preallocated sequence; nothing is allocated per epoch.
 */
public final class EpochSequence {
    private final int[][] partitions;
    private final int[] order;
    private final int[] rows;
    private final int batch;
    private final int steps;
    private final long seed;
    private final SeededShuffle shuffle = new SeededShuffle(0);
    private int epoch = -1;

    /**
     * @param count samples in the training set
     * @param parts partitions (the trainers the run started with)
     * @param batch samples per partition and step
     * @param steps steps per epoch
     * @param seed  the run's seed
     */
    public EpochSequence(int count, int parts, int batch, int steps, long seed) {
        if (parts < 1 || batch < 1 || steps < 1) {
            throw new IllegalArgumentException("an epoch sequence needs parts, batch and steps >= 1, got " + parts + ", "
                    + batch + ", " + steps);
        }
        if ((long) parts * batch * steps > count) {
            throw new IllegalArgumentException(steps + " steps of " + parts + " x " + batch + " samples need more than the "
                    + count + " samples of the training set");
        }
        this.partitions = new int[parts][];
        int longest = 0;
        for (int p = 0; p < parts; p++) {
            partitions[p] = Partitioner.partition(count, parts, p, seed);
            longest = Math.max(longest, partitions[p].length);
        }
        this.order = new int[longest];
        this.rows = new int[parts * batch * steps];
        this.batch = batch;
        this.steps = steps;
        this.seed = seed;
    }

    /** Fills the sequence of {@code epoch} (a no-op when it already holds it). */
    public void startEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        if (epoch == this.epoch) {
            return;
        }
        int parts = partitions.length;
        int perStep = parts * batch;
        for (int p = 0; p < parts; p++) {
            int n = partitions[p].length;
            System.arraycopy(partitions[p], 0, order, 0, n);
            // the partition's BatchIterator is seeded with (run seed + partition)
            shuffle.reseed(SeededShuffle.derive(seed + p, epoch));
            shuffle.shuffle(order, 0, n);
            for (int j = 0; j < steps; j++) {
                System.arraycopy(order, j * batch, rows, j * perStep + p * batch, batch);
            }
        }
        this.epoch = epoch;
    }

    public int epoch() {
        return epoch;
    }

    /** Samples trained per epoch: steps times parts times batch. */
    public int length() {
        return rows.length;
    }

    /** The dataset row at position {@code position} of the current epoch. */
    public int row(int position) {
        return rows[position];
    }
}
