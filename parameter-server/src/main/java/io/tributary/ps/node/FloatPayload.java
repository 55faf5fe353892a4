package io.tributary.ps.node;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;

/** Copies a frame's little-endian float payload into a {@code float[]}. */
final class FloatPayload {

    private FloatPayload() {
    }

    static void copy(DirectBuffer src, int srcIndex, float[] dst, int dstIndex, int count) {
        if (dstIndex < 0 || count < 0 || dstIndex > dst.length - count) {
            throw new IndexOutOfBoundsException("payload of " + count + " floats at element " + dstIndex
                    + " does not fit " + dst.length);
        }
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            // One bulk copy: DirectBuffer.getBytes into a byte view is not available for float[], so
            // read ints through the buffer's native accessor (JIT turns this into a wide copy loop).
            for (int i = 0; i < count; i++) {
                dst[dstIndex + i] = Float.intBitsToFloat(src.getInt(srcIndex + i * Float.BYTES));
            }
        } else {
            for (int i = 0; i < count; i++) {
                dst[dstIndex + i] = src.getFloat(srcIndex + i * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
            }
        }
    }
}
