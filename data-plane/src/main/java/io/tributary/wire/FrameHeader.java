package io.tributary.wire;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Flyweight over the fixed header that starts every data-plane frame; the payload follows it.
 * Wrap once, re-wrap per frame: it holds no state besides the buffer and offset.
 *
 * <p>Layout, little-endian, 80 bytes, payload starting at {@link #HEADER_LENGTH} (8-byte aligned):
 *
 * <pre>
 *   0      4   magic            0x46425254, the bytes "TRBF"
 *   4      2   version          {@link #VERSION}; another version is counted and never applied
 *   6      1   type             {@link FrameType#code()}
 *   7      1   encoding         {@link Encoding#code()}: 1 float32, 2 float16, 3 bfloat16, 4 int8
 *   8      8   run id           training run the frame belongs to
 *  16      4   sender id        trainer (gradients) or shard owner (parameters)
 *  20      4   shard            parameter shard
 *  24      4   tensor           tensor within the shard
 *  28      4   element offset   first element of the payload within the destination
 *  32      8   step or version  trainer step for gradients, model version for parameters
 *  40      4   payload length   in bytes, a whole number of values in the frame's encoding (below)
 *  44      4   flags            reserved, zero
 *  48      8   sequence         per sending node, rises with every frame it sends (replay protection)
 *  56      4   session          the sending node's data-plane session ({@link FrameAuth#sessionId()})
 *  60      4   reserved         zero
 *  64     16   MAC              HMAC-SHA-256 (first 16 bytes) of every other byte of the frame under the
 *                               key the sending and the receiving node agreed ({@link FrameAuth});
 *                               zero when authentication is off
 *  80      -   payload          payload length bytes
 * </pre>
 *
 * <p>Payload layouts, little-endian; a frame carries the same number of values n whatever its encoding
 * (the publisher's {@code maxPayloadFloats} per full frame), only its byte count differs:
 *
 * <pre>
 *   float32   (1)  n * 4 bytes   IEEE 754 single, exact
 *   float16   (2)  n * 2 bytes   IEEE 754 half, rounded to nearest even, overflow to infinity
 *   bfloat16  (3)  n * 2 bytes   the upper half of the float32 bits, rounded to nearest even
 *   int8      (4)  4 + n bytes   int32 e, the scale's exponent in [-149, 121], then n signed bytes q in
 *                                [-127, 127]; value = q * 2^e (one power-of-two scale for the frame)
 * </pre>
 *
 * <p>Version 1 had a 64-byte header without sequence and session.
 */
public final class FrameHeader {

    public static final int MAGIC = 0x4642_5254;
    public static final short VERSION = 2;
    /** {@link Encoding#FLOAT32}'s code, what {@link #writeHeader(FrameType, long, int, int, int, int, long)} writes. */
    public static final byte ENCODING_FLOAT32 = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int TYPE_OFFSET = 6;
    public static final int ENCODING_OFFSET = 7;
    public static final int RUN_ID_OFFSET = 8;
    public static final int SENDER_OFFSET = 16;
    public static final int SHARD_OFFSET = 20;
    public static final int TENSOR_OFFSET = 24;
    public static final int ELEMENT_OFFSET_OFFSET = 28;
    public static final int STEP_OFFSET = 32;
    public static final int PAYLOAD_LENGTH_OFFSET = 40;
    public static final int FLAGS_OFFSET = 44;
    public static final int SEQUENCE_OFFSET = 48;
    public static final int SESSION_OFFSET = 56;
    public static final int RESERVED_OFFSET = 60;
    public static final int MAC_OFFSET = 64;
    public static final int MAC_LENGTH = 16;
    public static final int HEADER_LENGTH = 80;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutableBuffer;
    private int offset;

    /** Wraps a frame for reading; the setters must not be used after this. */
    public FrameHeader wrap(DirectBuffer buffer, int offset) {
        this.buffer = buffer;
        this.mutableBuffer = null;
        this.offset = offset;
        return this;
    }

    /** Wraps a frame for reading and writing. */
    public FrameHeader wrap(MutableDirectBuffer buffer, int offset) {
        this.buffer = buffer;
        this.mutableBuffer = buffer;
        this.offset = offset;
        return this;
    }

    public DirectBuffer buffer() {
        return buffer;
    }

    public int offset() {
        return offset;
    }

    /** Index of the first payload byte in {@link #buffer()}. */
    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    /**
     * Writes magic, version, type and encoding float32, the run and addressing fields, and zeroes flags,
     * sequence, session and MAC; the payload length is left to {@link #payloadLength(int)}.
     */
    public FrameHeader writeHeader(FrameType type, long runId, int sender, int shard, int tensor, int elementOffset,
            long step) {
        return writeHeader(type, Encoding.FLOAT32, runId, sender, shard, tensor, elementOffset, step);
    }

    /** As {@link #writeHeader(FrameType, long, int, int, int, int, long)}, with the payload in {@code encoding}. */
    public FrameHeader writeHeader(FrameType type, Encoding encoding, long runId, int sender, int shard, int tensor,
            int elementOffset, long step) {
        mutableBuffer.putInt(offset + MAGIC_OFFSET, MAGIC, LITTLE_ENDIAN);
        mutableBuffer.putShort(offset + VERSION_OFFSET, VERSION, LITTLE_ENDIAN);
        mutableBuffer.putByte(offset + TYPE_OFFSET, type.code());
        mutableBuffer.putByte(offset + ENCODING_OFFSET, encoding.code());
        mutableBuffer.putLong(offset + RUN_ID_OFFSET, runId, LITTLE_ENDIAN);
        mutableBuffer.putInt(offset + SENDER_OFFSET, sender, LITTLE_ENDIAN);
        mutableBuffer.putInt(offset + SHARD_OFFSET, shard, LITTLE_ENDIAN);
        mutableBuffer.putInt(offset + TENSOR_OFFSET, tensor, LITTLE_ENDIAN);
        mutableBuffer.putInt(offset + ELEMENT_OFFSET_OFFSET, elementOffset, LITTLE_ENDIAN);
        mutableBuffer.putLong(offset + STEP_OFFSET, step, LITTLE_ENDIAN);
        mutableBuffer.putInt(offset + FLAGS_OFFSET, 0, LITTLE_ENDIAN);
        mutableBuffer.putLong(offset + SEQUENCE_OFFSET, 0L, LITTLE_ENDIAN);
        mutableBuffer.putInt(offset + SESSION_OFFSET, 0, LITTLE_ENDIAN);
        mutableBuffer.putInt(offset + RESERVED_OFFSET, 0, LITTLE_ENDIAN);
        mutableBuffer.setMemory(offset + MAC_OFFSET, MAC_LENGTH, (byte) 0);
        return this;
    }

    public int magic() {
        return buffer.getInt(offset + MAGIC_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader magic(int magic) {
        mutableBuffer.putInt(offset + MAGIC_OFFSET, magic, LITTLE_ENDIAN);
        return this;
    }

    public short version() {
        return buffer.getShort(offset + VERSION_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader version(short version) {
        mutableBuffer.putShort(offset + VERSION_OFFSET, version, LITTLE_ENDIAN);
        return this;
    }

    /** The raw type byte; compare with {@link FrameType#code()}. */
    public byte typeCode() {
        return buffer.getByte(offset + TYPE_OFFSET);
    }

    public FrameHeader type(FrameType type) {
        mutableBuffer.putByte(offset + TYPE_OFFSET, type.code());
        return this;
    }

    /** The raw encoding byte; {@link Encoding#ofCode(byte)} maps it. */
    public byte encoding() {
        return buffer.getByte(offset + ENCODING_OFFSET);
    }

    public FrameHeader encoding(byte encoding) {
        mutableBuffer.putByte(offset + ENCODING_OFFSET, encoding);
        return this;
    }

    public long runId() {
        return buffer.getLong(offset + RUN_ID_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader runId(long runId) {
        mutableBuffer.putLong(offset + RUN_ID_OFFSET, runId, LITTLE_ENDIAN);
        return this;
    }

    public int sender() {
        return buffer.getInt(offset + SENDER_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader sender(int sender) {
        mutableBuffer.putInt(offset + SENDER_OFFSET, sender, LITTLE_ENDIAN);
        return this;
    }

    public int shard() {
        return buffer.getInt(offset + SHARD_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader shard(int shard) {
        mutableBuffer.putInt(offset + SHARD_OFFSET, shard, LITTLE_ENDIAN);
        return this;
    }

    public int tensor() {
        return buffer.getInt(offset + TENSOR_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader tensor(int tensor) {
        mutableBuffer.putInt(offset + TENSOR_OFFSET, tensor, LITTLE_ENDIAN);
        return this;
    }

    public int elementOffset() {
        return buffer.getInt(offset + ELEMENT_OFFSET_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader elementOffset(int elementOffset) {
        mutableBuffer.putInt(offset + ELEMENT_OFFSET_OFFSET, elementOffset, LITTLE_ENDIAN);
        return this;
    }

    /** Trainer step for gradients, model version for parameters. */
    public long step() {
        return buffer.getLong(offset + STEP_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader step(long step) {
        mutableBuffer.putLong(offset + STEP_OFFSET, step, LITTLE_ENDIAN);
        return this;
    }

    public int payloadLength() {
        return buffer.getInt(offset + PAYLOAD_LENGTH_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader payloadLength(int bytes) {
        mutableBuffer.putInt(offset + PAYLOAD_LENGTH_OFFSET, bytes, LITTLE_ENDIAN);
        return this;
    }

    public int flags() {
        return buffer.getInt(offset + FLAGS_OFFSET, LITTLE_ENDIAN);
    }

    /** The sending node's frame counter; 0 when authentication is off. */
    public long sequence() {
        return buffer.getLong(offset + SEQUENCE_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader sequence(long sequence) {
        mutableBuffer.putLong(offset + SEQUENCE_OFFSET, sequence, LITTLE_ENDIAN);
        return this;
    }

    /** The sending node's data-plane session; 0 when authentication is off. */
    public int session() {
        return buffer.getInt(offset + SESSION_OFFSET, LITTLE_ENDIAN);
    }

    public FrameHeader session(int session) {
        mutableBuffer.putInt(offset + SESSION_OFFSET, session, LITTLE_ENDIAN);
        return this;
    }

    /** Copies the 16 MAC bytes into {@code dst} at {@code dstIndex}. */
    public void getMac(byte[] dst, int dstIndex) {
        buffer.getBytes(offset + MAC_OFFSET, dst, dstIndex, MAC_LENGTH);
    }

    /** Writes the 16 MAC bytes from {@code src} at {@code srcIndex}. */
    public FrameHeader putMac(byte[] src, int srcIndex) {
        mutableBuffer.putBytes(offset + MAC_OFFSET, src, srcIndex, MAC_LENGTH);
        return this;
    }
}
