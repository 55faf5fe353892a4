package io.tributary.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * One piece of state in float parts of equal length (a shard's parameters, or its optimizer's
 * moments) as it crosses the control plane in chunks of {@link #CHUNK_FLOATS}, and its reassembly
 * on the other side. The sender cuts with {@link #chunkCount} and {@link #slice}; the receiver
 * {@link #accept}s chunks in any order, any number of times, until {@link #complete()}, then checks
 * each part against the {@link #digest} its chunks carried ({@link #intact()}). Rollback, hand-over
 * and optimizer snapshots all move state this way, in {@link ShardProtocol.StateChunk}s.
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
    private final long[] digests;
    private final boolean[] digestKnown;
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
        this.digests = new long[parts];
        this.digestKnown = new boolean[parts];
        this.missing = parts * chunkCount(length);
    }

    /** One chunk to send: floats {@code [offset, offset + values.length)} of part {@code part}, and that part's digest. */
    public record Piece(int part, int offset, float[] values, long partDigest) {
    }

    /**
     * Cuts a state into the pieces that carry it: part {@code p} is floats {@code [bases[p], bases[p] +
     * length)} of {@code sources[p]}.
     */
    public static java.util.List<Piece> cut(float[][] sources, int[] bases, int length) {
        if (sources.length != bases.length) {
            throw new IllegalArgumentException(sources.length + " parts but " + bases.length + " bases");
        }
        java.util.List<Piece> out = new java.util.ArrayList<>(sources.length * chunkCount(length));
        for (int p = 0; p < sources.length; p++) {
            long digest = digest(sources[p], bases[p], length);
            for (int off = 0; off < length; off += CHUNK_FLOATS) {
                out.add(new Piece(p, off, slice(sources[p], bases[p], length, off), digest));
            }
        }
        return out;
    }

    /**
     * CRC32C of floats {@code [base, base + length)} of {@code source} as little-endian IEEE 754 bytes
     * (NaN payloads included): the digest a part's chunks carry.
     */
    public static long digest(float[] source, int base, int length) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.min(length, CHUNK_FLOATS) * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        CRC32C crc = new CRC32C();
        for (int off = 0; off < length; off += CHUNK_FLOATS) {
            bytes.clear();
            int n = Math.min(CHUNK_FLOATS, length - off);
            for (int i = 0; i < n; i++) {
                bytes.putInt(Float.floatToRawIntBits(source[base + off + i]));
            }
            bytes.flip();
            crc.update(bytes);
        }
        return crc.getValue();
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

    /**
     * Stores one chunk unless it is here already or does not fit; {@code partDigest} is the digest of
     * the whole part it belongs to, the same in every chunk of that part (else the chunk is a misfit:
     * it belongs to another state).
     */
    public Accepted accept(int part, int offset, float[] values, long partDigest) {
        if (!fits(part, offset, values) || digestKnown[part] && digests[part] != partDigest) {
            return Accepted.MISFIT;
        }
        digests[part] = partDigest;
        digestKnown[part] = true;
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

    /** Complete, and every part matches the digest its chunks carried. */
    public boolean intact() {
        if (!complete()) {
            return false;
        }
        for (int p = 0; p < parts.length; p++) {
            if (digest(parts[p], 0, length) != digests[p]) {
                return false;
            }
        }
        return true;
    }

    /** Forgets every chunk (a state that arrived corrupt is taken again from the chunks sent again). */
    public void restart() {
        for (boolean[] g : got) {
            Arrays.fill(g, false);
        }
        Arrays.fill(digestKnown, false);
        missing = parts.length * chunkCount(length);
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
