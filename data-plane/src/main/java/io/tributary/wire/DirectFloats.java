package io.tributary.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;

/**
 * Bulk copies between {@code float[]} and little-endian float payloads in Agrona buffers, as one
 * memory copy on little-endian hosts (the frame layout is little-endian) and element by element
 * elsewhere. Bounds are checked once per copy, not per element. Used by the publisher to fill frames and by
 * the receive-side sinks to copy payloads out of Aeron's term buffers.
 */
public final class DirectFloats {

    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final long FLOAT_ARRAY_BASE = UnsafeApi.arrayBaseOffset(float[].class);

    private DirectFloats() {
    }

    /** Copies {@code count} floats from {@code src} at byte {@code srcIndex} into {@code dst[dstIndex..]}. */
    public static void copyToArray(DirectBuffer src, int srcIndex, float[] dst, int dstIndex, int count) {
        if (count < 0 || count > Integer.MAX_VALUE / Float.BYTES || dstIndex < 0 || dstIndex > dst.length - count) {
            throw new IndexOutOfBoundsException("dst range [" + dstIndex + ", +" + count + ") of " + dst.length);
        }
        src.boundsCheck(srcIndex, count * Float.BYTES);
        if (NATIVE_LITTLE_ENDIAN) {
            UnsafeApi.copyMemory(src.byteArray(), src.addressOffset() + srcIndex, dst,
                    FLOAT_ARRAY_BASE + (long) dstIndex * Float.BYTES, (long) count * Float.BYTES);
        } else {
            for (int i = 0; i < count; i++) {
                dst[dstIndex + i] = src.getFloat(srcIndex + i * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
            }
        }
    }

    /** Copies {@code count} floats from {@code src[srcIndex..]} into {@code dst} at byte {@code dstIndex}. */
    public static void copyFromArray(float[] src, int srcIndex, MutableDirectBuffer dst, int dstIndex, int count) {
        if (count < 0 || count > Integer.MAX_VALUE / Float.BYTES || srcIndex < 0 || srcIndex > src.length - count) {
            throw new IndexOutOfBoundsException("src range [" + srcIndex + ", +" + count + ") of " + src.length);
        }
        dst.boundsCheck(dstIndex, count * Float.BYTES);
        if (NATIVE_LITTLE_ENDIAN) {
            UnsafeApi.copyMemory(src, FLOAT_ARRAY_BASE + (long) srcIndex * Float.BYTES, dst.byteArray(),
                    dst.addressOffset() + dstIndex, (long) count * Float.BYTES);
        } else {
            for (int i = 0; i < count; i++) {
                dst.putFloat(dstIndex + i * Float.BYTES, src[srcIndex + i], ByteOrder.LITTLE_ENDIAN);
            }
        }
    }
}
