package io.tributary.wire;

/** What a frame's payload is: a trainer's gradient for a shard, or a shard's parameters for trainers. */
public enum FrameType {
    GRADIENT((byte) 1),
    PARAMETERS((byte) 2);

    private final byte code;

    FrameType(byte code) {
        this.code = code;
    }

    /** The byte written at {@link FrameHeader#TYPE_OFFSET}. */
    public byte code() {
        return code;
    }
}
