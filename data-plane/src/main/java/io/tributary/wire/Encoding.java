package io.tributary.wire;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

import java.util.Locale;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * How a frame's payload carries its values: the byte at {@link FrameHeader#ENCODING_OFFSET}. Every
 * encoding carries the same number of values per frame; the compressed ones just take fewer bytes.
 * Payload layouts (little-endian) are documented on {@link FrameHeader}.
 *
 * <p>{@link #encode} writes straight into a frame buffer and, given a residual array, applies error
 * feedback; {@link #decode} expands a payload into little-endian float32 values. Neither allocates.
 */
public enum Encoding {

    /** IEEE 754 single precision, exact. */
    FLOAT32((byte) 1, "float32", false) {
        @Override
        public int payloadBytes(int values) {
            return values * Float.BYTES;
        }

        @Override
        public int valueCount(int payloadBytes) {
            return payloadBytes >= 0 && (payloadBytes & (Float.BYTES - 1)) == 0 ? payloadBytes / Float.BYTES : -1;
        }

        @Override
        void encodeValues(float[] src, int srcOffset, int count, float[] residual, MutableDirectBuffer dst,
                int dstIndex) {
            DirectFloats.copyFromArray(src, srcOffset, dst, dstIndex, count);
        }

        @Override
        boolean decodeValues(DirectBuffer src, int srcIndex, int count, MutableDirectBuffer dst, int dstIndex) {
            dst.putBytes(dstIndex, src, srcIndex, count * Float.BYTES);
            return true;
        }
    },

    /** IEEE 754 half precision (1 sign, 5 exponent, 10 mantissa bits), rounded to nearest even. */
    FLOAT16((byte) 2, "float16", true) {
        @Override
        short to16(float v) {
            return floatToHalf(v);
        }

        @Override
        float from16(short bits) {
            return halfToFloat(bits);
        }
    },

    /** The upper 16 bits of a float32 (1 sign, 8 exponent, 7 mantissa bits), rounded to nearest even. */
    BFLOAT16((byte) 3, "bfloat16", true) {
        @Override
        short to16(float v) {
            return floatToBfloat16(v);
        }

        @Override
        float from16(short bits) {
            return bfloat16ToFloat(bits);
        }
    },

    /**
     * One signed byte per value, {@code q = round(v / 2^e)} in [-127, 127], with one power-of-two scale
     * {@code 2^e} for the whole frame: the smallest with {@code max|v| <= 127 * 2^e} (never below
     * {@link #INT8_MIN_EXPONENT}; {@code e = 0} for an all-zero frame).
     */
    INT8((byte) 4, "int8", true) {
        @Override
        public int payloadBytes(int values) {
            return INT8_SCALE_BYTES + values;
        }

        @Override
        public int valueCount(int payloadBytes) {
            return payloadBytes >= INT8_SCALE_BYTES ? payloadBytes - INT8_SCALE_BYTES : -1;
        }

        @Override
        void encodeValues(float[] src, int srcOffset, int count, float[] residual, MutableDirectBuffer dst,
                int dstIndex) {
            float maxAbs = 0f;
            for (int i = 0; i < count; i++) {
                int s = srcOffset + i;
                float v = residual == null ? src[s] : src[s] + residual[s];
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("int8 cannot carry " + v + " (element " + s
                            + (residual == null ? "" : ", value plus residual") + "): send this range as float32 or"
                            + " float16, or find where the non-finite value comes from");
                }
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
            int exponent = int8Exponent(maxAbs);
            if (exponent > INT8_MAX_EXPONENT) {
                throw new IllegalArgumentException("int8 cannot carry a frame whose largest magnitude is " + maxAbs
                        + " (above 127 * 2^" + INT8_MAX_EXPONENT + " = " + Math.scalb(127f, INT8_MAX_EXPONENT)
                        + "): send this range as float32");
            }
            dst.putInt(dstIndex, exponent, LITTLE_ENDIAN);
            int bytes = dstIndex + INT8_SCALE_BYTES;
            for (int i = 0; i < count; i++) {
                int s = srcOffset + i;
                float v = residual == null ? src[s] : src[s] + residual[s];
                int q = (int) Math.rint(Math.scalb(v, -exponent));
                q = Math.max(-127, Math.min(127, q));
                dst.putByte(bytes + i, (byte) q);
                if (residual != null) {
                    float decoded = Math.scalb((float) q, exponent);
                    src[s] = decoded;
                    residual[s] = v - decoded;
                }
            }
        }

        @Override
        boolean decodeValues(DirectBuffer src, int srcIndex, int count, MutableDirectBuffer dst, int dstIndex) {
            int exponent = src.getInt(srcIndex, LITTLE_ENDIAN);
            if (exponent < INT8_MIN_EXPONENT || exponent > INT8_MAX_EXPONENT) {
                return false;
            }
            int bytes = srcIndex + INT8_SCALE_BYTES;
            for (int i = 0; i < count; i++) {
                byte q = src.getByte(bytes + i);
                if (q == Byte.MIN_VALUE) {
                    return false;
                }
                dst.putFloat(dstIndex + i * Float.BYTES, Math.scalb((float) q, exponent), LITTLE_ENDIAN);
            }
            return true;
        }
    };

    /** Bytes of an int8 payload before its values: the scale's exponent, a little-endian int32. */
    public static final int INT8_SCALE_BYTES = Integer.BYTES;
    /**
     * Smallest int8 scale exponent: 2^-149 is the spacing of the smallest floats, so every
     * {@code q * 2^e} is an exact float and a frame of tiny values is carried exactly.
     */
    public static final int INT8_MIN_EXPONENT = -149;
    /** Largest int8 scale exponent: {@code 127 * 2^121} is finite, 2^122 would let {@code q = 64} overflow. */
    public static final int INT8_MAX_EXPONENT = 121;

    private static final Encoding[] BY_CODE = new Encoding[5];

    static {
        for (Encoding e : values()) {
            BY_CODE[e.code] = e;
        }
    }

    private final byte code;
    private final String configName;
    private final boolean lossy;

    Encoding(byte code, String configName, boolean lossy) {
        this.code = code;
        this.configName = configName;
        this.lossy = lossy;
    }

    /** The byte written at {@link FrameHeader#ENCODING_OFFSET}. */
    public byte code() {
        return code;
    }

    /** The name in configuration: {@code float32}, {@code float16}, {@code bfloat16} or {@code int8}. */
    public String configName() {
        return configName;
    }

    /** Whether decoding may give other values than were encoded (all but float32). */
    public boolean lossy() {
        return lossy;
    }

    /** Payload bytes of a frame carrying {@code values} values. */
    public int payloadBytes(int values) {
        return values * Short.BYTES; // the 16-bit encodings; float32 and int8 override
    }

    /** Values in a payload of {@code payloadBytes} bytes; -1 when that is not a whole number of them. */
    public int valueCount(int payloadBytes) {
        return payloadBytes >= 0 && (payloadBytes & 1) == 0 ? payloadBytes / Short.BYTES : -1;
    }

    /** A 16-bit encoding's bits of {@code v}, rounded to nearest even. */
    short to16(float v) {
        throw new UnsupportedOperationException(configName + " is not a 16-bit encoding");
    }

    /** The float a 16-bit encoding's {@code bits} stand for. */
    float from16(short bits) {
        throw new UnsupportedOperationException(configName + " is not a 16-bit encoding");
    }

    /** The 16-bit encodings: one little-endian short per value (float32 and int8 override). */
    void encodeValues(float[] src, int srcOffset, int count, float[] residual, MutableDirectBuffer dst,
            int dstIndex) {
        for (int i = 0; i < count; i++) {
            int s = srcOffset + i;
            float v = residual == null ? src[s] : src[s] + residual[s];
            short bits = to16(v);
            dst.putShort(dstIndex + i * Short.BYTES, bits, LITTLE_ENDIAN);
            if (residual != null) {
                float decoded = from16(bits);
                src[s] = decoded;
                residual[s] = finiteOrZero(v - decoded);
            }
        }
    }

    /** The 16-bit encodings (float32 and int8 override). */
    boolean decodeValues(DirectBuffer src, int srcIndex, int count, MutableDirectBuffer dst, int dstIndex) {
        for (int i = 0; i < count; i++) {
            dst.putFloat(dstIndex + i * Float.BYTES, from16(src.getShort(srcIndex + i * Short.BYTES, LITTLE_ENDIAN)),
                    LITTLE_ENDIAN);
        }
        return true;
    }

    /**
     * Encodes {@code src[srcOffset, +count)} into {@code dst} at byte {@code dstIndex}.
     *
     * <p>{@code residual == null}: {@code src} is only read. Otherwise (error feedback, lossy encodings;
     * float32 ignores it) each value encoded is {@code v = src[i] + residual[i]}, after which
     * {@code src[i]} holds exactly what a receiver decodes and {@code residual[i] = v - decoded}
     * (0 where that is not finite: a value no encoding can carry is not carried forward). The residual
     * is indexed like {@code src}.
     *
     * @return the payload bytes written, {@link #payloadBytes(int) payloadBytes(count)}
     * @throws IllegalArgumentException for int8, when a value is not finite or too large for any scale;
     *     nothing has been written then
     */
    public int encode(float[] src, int srcOffset, int count, float[] residual, MutableDirectBuffer dst, int dstIndex) {
        if (count < 0 || srcOffset < 0 || srcOffset > src.length - count) {
            throw new IndexOutOfBoundsException("src range [" + srcOffset + ", +" + count + ") of " + src.length);
        }
        if (residual != null && residual.length < srcOffset + count) {
            throw new IndexOutOfBoundsException("residual of " + residual.length + " values is shorter than the src range ["
                    + srcOffset + ", +" + count + "): size it like src");
        }
        int bytes = payloadBytes(count);
        dst.boundsCheck(dstIndex, bytes);
        encodeValues(src, srcOffset, count, lossy ? residual : null, dst, dstIndex);
        return bytes;
    }

    /**
     * Decodes {@code count} values from the payload at {@code src[srcIndex..]} into little-endian float32
     * values at {@code dst[dstIndex..]}.
     *
     * @return false when the payload is malformed (int8: a scale exponent out of
     *     [{@link #INT8_MIN_EXPONENT}, {@link #INT8_MAX_EXPONENT}] or a value of -128); {@code dst} then holds
     *     partial output
     */
    public boolean decode(DirectBuffer src, int srcIndex, int count, MutableDirectBuffer dst, int dstIndex) {
        if (count < 0) {
            throw new IllegalArgumentException("count " + count + " is negative");
        }
        src.boundsCheck(srcIndex, payloadBytes(count));
        dst.boundsCheck(dstIndex, count * Float.BYTES);
        return decodeValues(src, srcIndex, count, dst, dstIndex);
    }

    /** The encoding whose {@link #code()} is {@code code}, or null for an unknown code. Allocates nothing. */
    public static Encoding ofCode(byte code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /**
     * The encoding named {@code name} in configuration ({@link #configName()}, case-insensitive).
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static Encoding parse(String name) {
        if (name != null) {
            String trimmed = name.trim().toLowerCase(Locale.ROOT);
            for (Encoding e : values()) {
                if (e.configName.equals(trimmed)) {
                    return e;
                }
            }
        }
        StringBuilder accepted = new StringBuilder();
        for (Encoding e : values()) {
            accepted.append(accepted.length() == 0 ? "" : ", ").append(e.configName);
        }
        throw new IllegalArgumentException("unknown data-plane encoding '" + name + "': use one of " + accepted);
    }

    /**
     * The int8 scale exponent of a frame whose largest magnitude is {@code maxAbs} (finite, non-negative):
     * the smallest {@code e >= INT8_MIN_EXPONENT} with {@code maxAbs <= 127 * 2^e}, 0 when {@code maxAbs}
     * is 0. May exceed {@link #INT8_MAX_EXPONENT}, which {@link #encode} refuses.
     */
    public static int int8Exponent(float maxAbs) {
        if (maxAbs == 0f) {
            return 0;
        }
        double m = maxAbs; // float subnormals are normal doubles, so getExponent is floor(log2)
        int k = Math.getExponent(m);
        // 127 * 2^(k-7) < 2^k <= m < 2^(k+1) < 127 * 2^(k-5): e is k-6 or k-5. Scaling a double by 2^j is exact here.
        int e = Math.scalb(m, 6 - k) <= 127.0 ? k - 6 : k - 5;
        return Math.max(e, INT8_MIN_EXPONENT);
    }

    /** The IEEE half nearest {@code f} (ties to even), overflowing to infinity; NaN stays NaN (made quiet). */
    public static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFF_FFFF;
        if (abs >= 0x7F80_0000) {
            // Infinity keeps an all-zero mantissa; NaN keeps its top payload bits, quiet bit set so it stays NaN.
            return (short) (sign | 0x7C00 | (abs == 0x7F80_0000 ? 0 : 0x0200 | ((abs >>> 13) & 0x03FF)));
        }
        if (abs >= 0x477F_F000) {
            // 65520 is halfway between 65504 (largest half, odd mantissa) and 65536: ties to even go up, to infinity.
            return (short) (sign | 0x7C00);
        }
        if (abs >= 0x3880_0000) {
            // Normal half (>= 2^-14): rebias the exponent (127 -> 15) and round 23 mantissa bits to 10; a carry
            // out of the mantissa correctly bumps the exponent.
            int rebiased = abs - (112 << 23);
            return (short) (sign | ((rebiased + 0x0FFF + ((rebiased >>> 13) & 1)) >>> 13));
        }
        if (abs < 0x3300_0000) {
            // Below 2^-25, half the smallest subnormal (2^-24): rounds to zero; exactly 2^-25 ties to even zero.
            return (short) sign;
        }
        // Subnormal half: the value in units of 2^-24, rounded to nearest even; 1024 carries into the smallest normal.
        int exponent = abs >>> 23;
        int mantissa = (abs & 0x007F_FFFF) | 0x0080_0000;
        int shift = 126 - exponent;
        int q = mantissa >>> shift;
        int rest = mantissa & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (rest > halfway || rest == halfway && (q & 1) != 0) {
            q++;
        }
        return (short) (sign | q);
    }

    /** The float equal to the IEEE half {@code h} (every half is exactly a float). */
    public static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x03FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: mantissa * 2^-24, exact in float.
            float magnitude = mantissa * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** The bfloat16 nearest {@code f} (ties to even), overflowing to infinity; NaN stays NaN (made quiet). */
    public static short floatToBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        // Adding 0x7FFF plus the kept lowest bit rounds the dropped 16 bits to nearest even; a carry propagates
        // into the exponent, up to infinity.
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The float equal to the bfloat16 {@code b}. */
    public static float bfloat16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }

    private static float finiteOrZero(float r) {
        return Float.isFinite(r) ? r : 0f;
    }
}
