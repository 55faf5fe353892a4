package io.tributary.dataplane;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32;

/**
 * CRC32 of a float range as the little-endian bytes the data plane carries, so that a sender and
 * a receiver can show that a gradient arrived bit-exact. One instance per thread; it reuses its
 * buffer, so checksumming allocates nothing after the first call of a given size.
 */
public final class FloatChecksum {

    private final CRC32 crc = new CRC32();
    private ByteBuffer bytes = ByteBuffer.allocateDirect(0);

    public long of(float[] src, int offset, int length) {
        if (bytes.capacity() < length * Float.BYTES) {
            bytes = ByteBuffer.allocateDirect(length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        }
        bytes.clear();
        bytes.asFloatBuffer().put(src, offset, length);
        bytes.limit(length * Float.BYTES);
        crc.reset();
        crc.update(bytes);
        return crc.getValue();
    }
}
