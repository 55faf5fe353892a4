package io.tributary.protocol;

import java.util.Arrays;

/**
 * One piece of state in float parts of equal length (a shard's parameters, or its optimizer's
 * moments) as it crosses the control plane in chunks of {@link #CHUNK_FLOATS}, and its reassembly
 * on the other side. The sender cuts with {@link #chunkCount} and {@link #slice}; the receiver
 * {@link #accept}s chunks in any order, any number of times, until {@link #complete()}. Rollback,
 * hand-over and optimizer snapshots all move state this way.
 */
public final class ChunkedState {

    /** Floats per chunk: 128 KiB, well under Artery's frame size. */
    public static final int CHUNK_FLOATS = 32 * 1024;

    /** What {@link #accept} made of a chunk. */
    public enum Accepted {
        /** Stored: it was missing. */
        NEW,
        /** Already here (a chunk sent again); nothing changed. */
        DUPLICATE,
        /** Does not fit this state (part, offset or length): ignored. */
        MISFIT
    }

    private final float[][] parts;
    private final boolean[][] got;
    private final int length;
    private int missing;

    /** Room for {@code parts} parts of {@code length} floats each ({@code parts} may be 0: nothing to wait for). */
    public ChunkedState(int parts, int length) {
        if (parts < 0 || length < 0) {
            throw new IllegalArgumentException("a chunked state needs parts >= 0 and length >= 0, got " + parts + " x " + length);
        }
        this.length = length;
        this.parts = new float[parts][length];
        this.got = new boolean[parts][chunkCount(length)];
        this.missing = parts * chunkCount(length);
    }

    /** How many chunks a part of {@code length} floats is cut into. */
    public static int chunkCount(int length) {
        return (length + CHUNK_FLOATS - 1) / CHUNK_FLOATS;
    }

    /**
     * The chunk at {@code offset} (a multiple of {@link #CHUNK_FLOATS}) of the part that lies at
     * {@code [base, base + length)} in {@code source}: a copy, since it becomes a message.
     */
    public static float[] slice(float[] source, int base, int length, int offset) {
        if (offset < 0 || offset >= length || offset % CHUNK_FLOATS != 0) {
            throw new IllegalArgumentException("chunk offset " + offset + " is not a chunk of a part of " + length + " floats");
        }
        return Arrays.copyOfRange(source, base + offset, base + Math.min(length, offset + CHUNK_FLOATS));
    }

    /** Whether a chunk of {@code values} at {@code offset} of part {@code part} could belong to this state. */
    public boolean fits(int part, int offset, float[] values) {
        return part >= 0 && part < parts.length && offset >= 0 && offset < length && offset % CHUNK_FLOATS == 0
                && values != null && values.length == Math.min(CHUNK_FLOATS, length - offset);
    }

    /** Stores one chunk unless it is here already or does not fit. */
    public Accepted accept(int part, int offset, float[] values) {
        if (!fits(part, offset, values)) {
            return Accepted.MISFIT;
        }
        int chunk = offset / CHUNK_FLOATS;
        if (got[part][chunk]) {
            return Accepted.DUPLICATE;
        }
        got[part][chunk] = true;
        System.arraycopy(values, 0, parts[part], offset, values.length);
        missing--;
        return Accepted.NEW;
    }

    /** Every chunk of every part is here. */
    public boolean complete() {
        return missing == 0;
    }

    /** Chunks still to come. */
    public int missing() {
        return missing;
    }

    public int partCount() {
        return parts.length;
    }

    /** Floats per part. */
    public int length() {
        return length;
    }

    /** Part {@code p} as assembled so far (the state itself, not a copy). */
    public float[] part(int p) {
        return parts[p];
    }
}
