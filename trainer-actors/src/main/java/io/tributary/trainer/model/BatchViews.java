package io.tributary.trainer.model;

import io.tributary.kernels.Tensor;

/**
 * A buffer sized for the largest batch, with a cached view for the current batch size, so that
 * full batches (and the one short batch at an epoch's end) reuse views instead of slicing per step.
 */
public final class BatchViews {

    private final Tensor full;
    private final int rowLength;
    private final int maxBatch;
    private Tensor current;
    private int currentBatch;

    public BatchViews(Tensor full, int rowLength, int maxBatch) {
        this.full = full;
        this.rowLength = rowLength;
        this.maxBatch = maxBatch;
        this.current = full;
        this.currentBatch = maxBatch;
    }

    /** Gives the buffer back to {@code backend}, which allocated it. */
    void free(io.tributary.kernels.Backend backend) {
        backend.free(full);
    }

    /** The whole buffer, for {@code maxBatch} rows. */
    public Tensor full() {
        return full;
    }

    /** A view of the first {@code batch} rows (the buffer itself for a full batch); made once per change of size. */
    public Tensor rows(int batch) {
        if (batch != currentBatch) {
            if (batch < 1 || batch > maxBatch) {
                throw new IllegalArgumentException("batch of " + batch + " rows, but buffers hold 1.." + maxBatch);
            }
            current = batch == maxBatch ? full : full.slice(0, batch * rowLength);
            currentBatch = batch;
        }
        return current;
    }
}
