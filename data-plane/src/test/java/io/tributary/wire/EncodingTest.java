package io.tributary.wire;

import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The encodings against hand-computed values and independent oracles (nearest representable value
 * found by search, quantization in double), re-encoding idempotence, and error feedback.
 */
class EncodingTest {

    private static final int CHUNK = (FramePublisher.DEFAULT_MAX_FRAME_LENGTH - FrameHeader.HEADER_LENGTH) / Float.BYTES;

    // ---- names, codes, sizes ----

    @Test
    void codesNamesAndPayloadSizesAreTheDocumentedOnes() {
        assertEquals(1, Encoding.FLOAT32.code());
        assertEquals(FrameHeader.ENCODING_FLOAT32, Encoding.FLOAT32.code());
        assertEquals(2, Encoding.FLOAT16.code());
        assertEquals(3, Encoding.BFLOAT16.code());
        assertEquals(4, Encoding.INT8.code());
        assertEquals("float32", Encoding.FLOAT32.configName());
        assertEquals("float16", Encoding.FLOAT16.configName());
        assertEquals("bfloat16", Encoding.BFLOAT16.configName());
        assertEquals("int8", Encoding.INT8.configName());
        assertFalse(Encoding.FLOAT32.lossy());
        assertTrue(Encoding.FLOAT16.lossy() && Encoding.BFLOAT16.lossy() && Encoding.INT8.lossy());
        // A full default frame: 16364 values.
        assertEquals(65_456, Encoding.FLOAT32.payloadBytes(CHUNK));
        assertEquals(32_728, Encoding.FLOAT16.payloadBytes(CHUNK));
        assertEquals(32_728, Encoding.BFLOAT16.payloadBytes(CHUNK));
        assertEquals(16_368, Encoding.INT8.payloadBytes(CHUNK));
        assertEquals(3, Encoding.FLOAT32.valueCount(12));
        assertEquals(-1, Encoding.FLOAT32.valueCount(6));
        assertEquals(3, Encoding.FLOAT16.valueCount(6));
        assertEquals(-1, Encoding.BFLOAT16.valueCount(7));
        assertEquals(3, Encoding.INT8.valueCount(7));
        assertEquals(0, Encoding.INT8.valueCount(4));
        assertEquals(-1, Encoding.INT8.valueCount(3));
    }

    @Test
    void parseTakesConfigNamesAndNamesTheAcceptedOnesOtherwise() {
        assertSame(Encoding.INT8, Encoding.parse("int8"));
        assertSame(Encoding.BFLOAT16, Encoding.parse(" BFloat16 "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Encoding.parse("fp8"));
        assertTrue(e.getMessage().contains("'fp8'") && e.getMessage().contains("float32, float16, bfloat16, int8"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Encoding.parse(null));
    }

    @Test
    void ofCodeMapsKnownCodesAndNullOtherwise() {
        for (Encoding e : Encoding.values()) {
            assertSame(e, Encoding.ofCode(e.code()));
        }
        assertNull(Encoding.ofCode((byte) 0));
        assertNull(Encoding.ofCode((byte) 5));
        assertNull(Encoding.ofCode((byte) -1));
    }

    // ---- float16 ----

    @Test
    void float16OfHandComputedValues() {
        assertEquals((short) 0x3C00, Encoding.floatToHalf(1.0f));
        assertEquals((short) 0xC000, Encoding.floatToHalf(-2.0f));
        assertEquals((short) 0x0000, Encoding.floatToHalf(0.0f));
        assertEquals((short) 0x8000, Encoding.floatToHalf(-0.0f));
        // 0.1 = 1.6 * 2^-4: exponent 11, mantissa 0.6 * 1024 = 614.4 -> 614 = 0x266.
        assertEquals((short) 0x2E66, Encoding.floatToHalf(0.1f));
        // Largest half 65504 = 0x7BFF; 65519 still rounds down; 65520 is the tie with 65536 -> even -> infinity.
        assertEquals((short) 0x7BFF, Encoding.floatToHalf(65504f));
        assertEquals((short) 0x7BFF, Encoding.floatToHalf(65519f));
        assertEquals((short) 0x7C00, Encoding.floatToHalf(65520f));
        assertEquals((short) 0xFC00, Encoding.floatToHalf(-1e6f));
        assertEquals((short) 0x7C00, Encoding.floatToHalf(Float.POSITIVE_INFINITY));
        // Smallest normal 2^-14 = 0x0400, smallest subnormal 2^-24 = 0x0001, largest subnormal 1023 * 2^-24.
        assertEquals((short) 0x0400, Encoding.floatToHalf(0x1p-14f));
        assertEquals((short) 0x0001, Encoding.floatToHalf(0x1p-24f));
        assertEquals((short) 0x03FF, Encoding.floatToHalf(1023 * 0x1p-24f));
        // 1e-8 = 0.168 units of 2^-24: zero. 2^-25 is half a unit, a tie -> even 0; 1.5 * 2^-25 rounds up to 1.
        assertEquals((short) 0x0000, Encoding.floatToHalf(1e-8f));
        assertEquals((short) 0x0000, Encoding.floatToHalf(0x1p-25f));
        assertEquals((short) 0x0001, Encoding.floatToHalf(1.5f * 0x1p-25f));
        // Subnormal ties: 1.5 units -> 2 (even), 2.5 units -> 2 (even), 1023.5 units -> 1024 = smallest normal.
        assertEquals((short) 0x0002, Encoding.floatToHalf(1.5f * 0x1p-24f));
        assertEquals((short) 0x0002, Encoding.floatToHalf(2.5f * 0x1p-24f));
        assertEquals((short) 0x0400, Encoding.floatToHalf(1023.5f * 0x1p-24f));
        // Normal ties: 1 + 2^-11 is halfway between 1 (mantissa 0, even) and 1 + 2^-10 -> 1.0;
        // 1 + 3 * 2^-11 is halfway between mantissa 1 and 2 -> 2; a hair above a tie rounds up.
        assertEquals((short) 0x3C00, Encoding.floatToHalf(1f + 0x1p-11f));
        assertEquals((short) 0x3C02, Encoding.floatToHalf(1f + 3 * 0x1p-11f));
        assertEquals((short) 0x3C01, Encoding.floatToHalf(1f + 0x1p-11f + 0x1p-20f));
        // Mantissa carry: 2 - 2^-12 rounds up past 1.1111111111b into the next exponent, 2.0 = 0x4000.
        assertEquals((short) 0x4000, Encoding.floatToHalf(2f - 0x1p-12f));
        short nan = Encoding.floatToHalf(Float.NaN);
        assertEquals(0x7C00, nan & 0x7C00);
        assertTrue((nan & 0x03FF) != 0, "NaN keeps a non-zero mantissa");
    }

    @Test
    void halfToFloatOfHandComputedValues() {
        assertEquals(1.0f, Encoding.halfToFloat((short) 0x3C00));
        // 0x3555: exponent 13 (2^-2), mantissa 341: (1 + 341/1024) / 4 = 0.333251953125.
        assertEquals(0.333251953125f, Encoding.halfToFloat((short) 0x3555));
        assertEquals(65504f, Encoding.halfToFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, Encoding.halfToFloat((short) 0x0001));
        assertEquals(1023 * 0x1p-24f, Encoding.halfToFloat((short) 0x03FF));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(Encoding.halfToFloat((short) 0x8000)));
        assertEquals(Float.NEGATIVE_INFINITY, Encoding.halfToFloat((short) 0xFC00));
        assertTrue(Float.isNaN(Encoding.halfToFloat((short) 0x7E00)));
    }

    /** Every half decodes to sign * mantissa * 2^exponent computed from its fields, and encodes back to itself. */
    @Test
    void everyHalfDecodesToItsFieldValueAndEncodesBackToItself() {
        for (int bits = 0; bits < 0x1_0000; bits++) {
            double expected = halfValueFromFields(bits);
            float decoded = Encoding.halfToFloat((short) bits);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(decoded), Integer.toHexString(bits));
                assertTrue(Float.isNaN(Encoding.halfToFloat(Encoding.floatToHalf(decoded))));
                continue;
            }
            assertEquals(expected, decoded, 0.0, Integer.toHexString(bits));
            assertEquals((short) bits, Encoding.floatToHalf(decoded), Integer.toHexString(bits));
        }
    }

    /** Random floats round to the nearest half found by search over all finite halves; ties go to the even one. */
    @Test
    void float16RoundsToTheNearestHalfTiesToEven() {
        double[] halves = new double[0x7C00]; // the non-negative finite halves, ascending with their bits
        for (int bits = 0; bits < 0x7C00; bits++) {
            halves[bits] = halfValueFromFields(bits);
        }
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 200_000; i++) {
            float f = (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-30, 18)));
            int expected = nearestIndex(halves, Math.abs(f), 65520.0, 0x7C00);
            int sign = Float.floatToRawIntBits(f) < 0 ? 0x8000 : 0;
            assertEquals((short) (sign | expected), Encoding.floatToHalf(f), "f = " + f + ", seed " + seed);
        }
    }

    // ---- bfloat16 ----

    @Test
    void bfloat16OfHandComputedValues() {
        assertEquals((short) 0x3F80, Encoding.floatToBfloat16(1.0f));
        assertEquals((short) 0x4040, Encoding.floatToBfloat16(3.0f));
        assertEquals((short) 0xBF80, Encoding.floatToBfloat16(-1.0f));
        // 0.1f = 0x3DCCCCCD: the dropped half 0xCCCD is above 0x8000 -> up.
        assertEquals((short) 0x3DCD, Encoding.floatToBfloat16(0.1f));
        // Ties: 1 + 2^-8 = 0x3F808000 keeps 0x3F80 (even); 1 + 3 * 2^-8 = 0x3F818000 goes to 0x3F82 (even).
        assertEquals((short) 0x3F80, Encoding.floatToBfloat16(1f + 0x1p-8f));
        assertEquals((short) 0x3F82, Encoding.floatToBfloat16(1f + 3 * 0x1p-8f));
        assertEquals((short) 0x3F81, Encoding.floatToBfloat16(1f + 0x1p-8f + 0x1p-23f));
        // Float.MAX_VALUE = 0x7F7FFFFF rounds up into the exponent: infinity.
        assertEquals((short) 0x7F80, Encoding.floatToBfloat16(Float.MAX_VALUE));
        assertEquals((short) 0xFF80, Encoding.floatToBfloat16(Float.NEGATIVE_INFINITY));
        // Subnormals: 0x00000001 -> 0; 0x00008000 is a tie with 0 (even) -> 0; 0x00018000 a tie -> 0x0002.
        assertEquals((short) 0x0000, Encoding.floatToBfloat16(Float.intBitsToFloat(0x0000_0001)));
        assertEquals((short) 0x0000, Encoding.floatToBfloat16(Float.intBitsToFloat(0x0000_8000)));
        assertEquals((short) 0x0002, Encoding.floatToBfloat16(Float.intBitsToFloat(0x0001_8000)));
        assertEquals((short) 0x8000, Encoding.floatToBfloat16(-0.0f));
        assertTrue(Float.isNaN(Encoding.bfloat16ToFloat(Encoding.floatToBfloat16(Float.NaN))));
        assertTrue(Float.isNaN(Encoding.bfloat16ToFloat(Encoding.floatToBfloat16(Float.intBitsToFloat(0x7F80_0001)))),
                "a NaN whose payload lies in the dropped bits stays NaN");
        assertEquals(1.0f, Encoding.bfloat16ToFloat((short) 0x3F80));
        assertEquals(-3.0f, Encoding.bfloat16ToFloat((short) 0xC040));
    }

    /** Random floats round to the nearer of the two bfloat16 neighbours (compared in double); ties go to even. */
    @Test
    void bfloat16RoundsToTheNearerNeighbourTiesToEven() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 200_000; i++) {
            int bits = rnd.nextInt() & 0x7FFF_FFFF;
            if (i % 4 == 0) {
                bits = (bits & 0xFFFF_0000) | 0x8000; // an exact tie
            }
            if (bits >= 0x7F7F_8000) {
                continue; // rounds to infinity or is not finite: covered by the hand-computed cases
            }
            float f = Float.intBitsToFloat(bits);
            int down = bits >>> 16;
            int up = down + 1;
            double dDown = Math.abs(f - (double) Float.intBitsToFloat(down << 16));
            double dUp = Math.abs((double) Float.intBitsToFloat(up << 16) - f);
            int expected = dDown < dUp ? down : dUp < dDown ? up : (down & 1) == 0 ? down : up;
            assertEquals((short) expected, Encoding.floatToBfloat16(f), "bits " + Integer.toHexString(bits)
                    + ", seed " + seed);
            assertEquals((short) (expected | 0x8000), Encoding.floatToBfloat16(-f));
        }
    }

    // ---- int8 ----

    @Test
    void int8OfAHandComputedBlock() {
        // max |v| = 1.0; 127 * 2^-7 = 0.99 < 1 <= 127 * 2^-6 = 1.98, so e = -6, s = 1/64:
        // q = 0.5 * 64 = 32, -1.0 * 64 = -64, 0.25 * 64 = 16. Payload: int32 -6 (FA FF FF FF), then 20 C0 10.
        UnsafeBuffer payload = encode(Encoding.INT8, new float[] {0.5f, -1.0f, 0.25f}, null);
        assertArrayEquals(new byte[] {(byte) 0xFA, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x20, (byte) 0xC0, 0x10},
                bytes(payload, 7));
        assertArrayEquals(new float[] {0.5f, -1.0f, 0.25f}, decode(Encoding.INT8, payload, 3));

        // e = -6 again; 0.3f * 64 = 19.2 -> 19 -> 0.296875; -0.01f * 64 = -0.64 -> -1 -> -0.015625.
        payload = encode(Encoding.INT8, new float[] {1.0f, 0.3f, -0.01f}, null);
        assertArrayEquals(new byte[] {(byte) 0xFA, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 64, 19, -1}, bytes(payload, 7));
        assertArrayEquals(new float[] {1.0f, 0.296875f, -0.015625f}, decode(Encoding.INT8, payload, 3));

        // max 127 -> e = 0 (63.5 < 127 <= 127); 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0: ties to even.
        payload = encode(Encoding.INT8, new float[] {127f, 0.5f, 1.5f, 2.5f, -0.5f}, null);
        assertArrayEquals(new byte[] {0, 0, 0, 0, 127, 0, 2, 2, 0}, bytes(payload, 9));

        // max 127.5 > 127 -> e = 1: 127.5 / 2 = 63.75 -> 64 -> 128; 3 / 2 = 1.5 -> 2 -> 4.
        payload = encode(Encoding.INT8, new float[] {127.5f, 3f}, null);
        assertArrayEquals(new byte[] {1, 0, 0, 0, 64, 2}, bytes(payload, 6));
        assertArrayEquals(new float[] {128f, 4f}, decode(Encoding.INT8, payload, 2));

        // All zero: s = 1 (e = 0), every q 0.
        payload = encode(Encoding.INT8, new float[] {0f, -0f, 0f}, null);
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0}, bytes(payload, 7));
    }

    @Test
    void int8ScaleIsThePowerOfTwoFoundByCountingAndNeverBelowTheSmallestFloatSpacing() {
        assertEquals(0, Encoding.int8Exponent(0f));
        assertEquals(-6, Encoding.int8Exponent(1f));
        assertEquals(0, Encoding.int8Exponent(127f));
        assertEquals(1, Encoding.int8Exponent(127.00001f));
        assertEquals(-7, Encoding.int8Exponent(127f / 128f));
        assertEquals(Encoding.INT8_MAX_EXPONENT, Encoding.int8Exponent(Math.scalb(127f, 121)));
        assertEquals(122, Encoding.int8Exponent(Float.MAX_VALUE));
        // 3 * 2^-149 would take e = -148 under the rule, but tiny blocks stop at -149: carried exactly.
        assertEquals(-149, Encoding.int8Exponent(Float.MIN_VALUE));
        assertEquals(-149, Encoding.int8Exponent(127 * Float.MIN_VALUE));
        assertEquals(-148, Encoding.int8Exponent(128 * Float.MIN_VALUE));
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 100_000; i++) {
            float m = Math.abs((float) (rnd.nextDouble() * Math.scalb(1.0, rnd.nextInt(-150, 128))));
            if (m == 0f || Float.isInfinite(m)) {
                continue;
            }
            int e = -149;
            while (m > 127 * Math.scalb(1.0, e)) {
                e++;
            }
            assertEquals(e, Encoding.int8Exponent(m), "max " + m + ", seed " + seed);
        }
    }

    @Test
    void int8OfTinyValuesIsExact() {
        float[] tiny = {Float.MIN_VALUE, 3 * Float.MIN_VALUE, -127 * Float.MIN_VALUE};
        UnsafeBuffer payload = encode(Encoding.INT8, tiny, null);
        assertEquals(-149, payload.getInt(0, LITTLE_ENDIAN));
        assertArrayEquals(tiny, decode(Encoding.INT8, payload, 3));
    }

    /** int8 quantization against a double-precision computation of q = round(v / 2^e) on random blocks. */
    @Test
    void int8MatchesQuantizationComputedInDouble() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int block = 0; block < 2_000; block++) {
            float[] v = randomFinite(rnd, 1 + rnd.nextInt(300), -150, 120);
            double max = 0;
            for (float x : v) {
                max = Math.max(max, Math.abs(x));
            }
            int e = 0;
            if (max > 0) {
                e = -149;
                while (max > 127 * Math.scalb(1.0, e)) {
                    e++;
                }
            }
            UnsafeBuffer payload = encode(Encoding.INT8, v, null);
            assertEquals(e, payload.getInt(0, LITTLE_ENDIAN), "seed " + seed);
            for (int i = 0; i < v.length; i++) {
                assertEquals((byte) Math.rint(v[i] / Math.scalb(1.0, e)), payload.getByte(4 + i),
                        "block " + block + " value " + v[i] + ", seed " + seed);
            }
        }
    }

    @Test
    void int8RefusesWhatNoScaleCarries() {
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> encode(Encoding.INT8, new float[] {1f, Float.NaN}, null));
        assertTrue(nan.getMessage().contains("NaN") && nan.getMessage().contains("element 1"), nan.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> encode(Encoding.INT8, new float[] {Float.NEGATIVE_INFINITY}, null));
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> encode(Encoding.INT8, new float[] {Float.MAX_VALUE}, null));
        assertTrue(huge.getMessage().contains("float32"), huge.getMessage());
        // With error feedback, src + residual overflowing counts too, and nothing is touched.
        float[] src = {Float.MAX_VALUE, 1f};
        float[] residual = {Float.MAX_VALUE, 0.5f};
        assertThrows(IllegalArgumentException.class, () -> encode(Encoding.INT8, src, residual));
        assertArrayEquals(new float[] {Float.MAX_VALUE, 1f}, src);
        assertArrayEquals(new float[] {Float.MAX_VALUE, 0.5f}, residual);
    }

    @Test
    void int8DecodeRefusesAnOutOfRangeScaleOrMinus128() {
        UnsafeBuffer payload = new UnsafeBuffer(new byte[6]);
        UnsafeBuffer out = new UnsafeBuffer(new byte[8]);
        payload.putInt(0, 122, LITTLE_ENDIAN);
        assertFalse(Encoding.INT8.decode(payload, 0, 2, out, 0));
        payload.putInt(0, -150, LITTLE_ENDIAN);
        assertFalse(Encoding.INT8.decode(payload, 0, 2, out, 0));
        payload.putInt(0, 121, LITTLE_ENDIAN);
        payload.putByte(4, (byte) 127);
        assertTrue(Encoding.INT8.decode(payload, 0, 2, out, 0));
        assertEquals(Math.scalb(127f, 121), out.getFloat(0, LITTLE_ENDIAN));
        payload.putByte(5, Byte.MIN_VALUE);
        assertFalse(Encoding.INT8.decode(payload, 0, 2, out, 0));
    }

    // ---- all lossy encodings ----

    /**
     * Re-encoding decoded values gives the same bytes and the same values, bit for bit: for int8 because the
     * scale is a power of two, so the decoded maximum q * 2^e (64..127 units) picks the same e again.
     */
    @ParameterizedTest
    @EnumSource(value = Encoding.class, names = {"FLOAT16", "BFLOAT16", "INT8"})
    void reEncodingDecodedValuesIsIdempotent(Encoding encoding) {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int block = 0; block < 500; block++) {
            int n = 1 + rnd.nextInt(CHUNK);
            float[] v = encoding == Encoding.INT8 ? randomFinite(rnd, n, -155, 120) : randomAnyBits(rnd, n);
            UnsafeBuffer first = encode(encoding, v, null);
            float[] decoded = decode(encoding, first, n);
            UnsafeBuffer second = encode(encoding, decoded, null);
            float[] again = decode(encoding, second, n);
            int bytes = encoding.payloadBytes(n);
            assertArrayEquals(bytes(first, bytes), bytes(second, bytes), encoding + " bytes, seed " + seed);
            assertArrayEquals(bits(decoded), bits(again), encoding + " values, seed " + seed);
        }
    }

    /** With a residual, src afterwards holds exactly the values a receiver decodes, and v = src + residual. */
    @ParameterizedTest
    @EnumSource(value = Encoding.class, names = {"FLOAT16", "BFLOAT16", "INT8"})
    void errorFeedbackLeavesTheDecodedValuesInSrcAndTheLossInTheResidual(Encoding encoding) {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 1_000;
        float[] g = randomFinite(rnd, n + 3, -20, 10);
        float[] residual = randomFinite(rnd, n + 3, -30, -10);
        float[] v = new float[n + 3];
        for (int i = 0; i < v.length; i++) {
            v[i] = g[i] + residual[i];
        }
        float[] untouched = g.clone();
        UnsafeBuffer payload = new UnsafeBuffer(new byte[encoding.payloadBytes(n)]);
        assertEquals(encoding.payloadBytes(n), encoding.encode(g, 3, n, residual, payload, 0));
        float[] decoded = decode(encoding, payload, n);
        assertArrayEquals(bits(decoded), bits(Arrays.copyOfRange(g, 3, n + 3)), "seed " + seed);
        for (int i = 3; i < n + 3; i++) {
            assertEquals((double) v[i], (double) g[i] + residual[i], 0.0, "v = decoded + residual at " + i);
        }
        assertArrayEquals(Arrays.copyOf(untouched, 3), Arrays.copyOf(g, 3), "outside the range untouched");
    }

    @Test
    void float32IgnoresTheResidualAndIsExact() {
        float[] src = {Float.intBitsToFloat(0x7FC0_1234), -0f, 1e-40f, 3.25f};
        float[] residual = {1f, 1f, 1f, 1f};
        UnsafeBuffer payload = new UnsafeBuffer(new byte[16]);
        Encoding.FLOAT32.encode(src, 0, 4, residual, payload, 0);
        assertArrayEquals(new float[] {1f, 1f, 1f, 1f}, residual);
        assertArrayEquals(bits(new float[] {Float.intBitsToFloat(0x7FC0_1234), -0f, 1e-40f, 3.25f}),
                bits(decode(Encoding.FLOAT32, payload, 4)));
    }

    /**
     * Sending the same g K times with error feedback: the decoded values sum to K * g within one quantum
     * (sum of decoded = K * g - final residual + the float rounding of g + residual, at most 2^-24 per send for
     * |v| < 2), and the residual stays within half a quantum. Quanta for |v| < 2 by hand: float16 2^-10,
     * bfloat16 2^-7, int8 2^-6 (g holds 1.0, carried exactly, which fixes e = -6).
     */
    @ParameterizedTest
    @EnumSource(value = Encoding.class, names = {"FLOAT16", "BFLOAT16", "INT8"})
    void errorFeedbackKeepsTheSumOfDecodedValuesWithinOneQuantumOfTheTrueSum(Encoding encoding) {
        double quantum = encoding == Encoding.FLOAT16 ? 0x1p-10 : encoding == Encoding.BFLOAT16 ? 0x1p-7 : 0x1p-6;
        int k = 200;
        int n = 2_000;
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (float) rnd.nextDouble(-1, 1);
        }
        g[0] = 1.0f;
        g[1] = 0.1f;
        float[] residual = new float[n];
        float[] src = new float[n];
        double[] sum = new double[n];
        UnsafeBuffer payload = new UnsafeBuffer(new byte[encoding.payloadBytes(n)]);
        for (int send = 0; send < k; send++) {
            System.arraycopy(g, 0, src, 0, n);
            encoding.encode(src, 0, n, residual, payload, 0);
            for (int i = 0; i < n; i++) {
                sum[i] += src[i];
                assertTrue(Math.abs(residual[i]) <= quantum / 2, "residual " + residual[i] + " at " + i + " after send "
                        + send + ", seed " + seed);
            }
        }
        double tolerance = quantum + k * 0x1p-24;
        for (int i = 0; i < n; i++) {
            assertEquals((double) k * g[i], sum[i], tolerance, encoding + " element " + i + ", seed " + seed);
        }
        if (encoding == Encoding.FLOAT16) {
            // Without feedback 0.1f -> 0x2E66 = 0.0999755859375 every time: 200 sends lose 200 * 2.44e-5 = 4.9e-3,
            // five float16 quanta; with feedback the loss stays under one.
            double withoutFeedback = k * (0.0999755859375 - 0.1f);
            assertTrue(Math.abs(withoutFeedback) > 4 * quantum);
            assertEquals(0.0999755859375f, Encoding.halfToFloat(Encoding.floatToHalf(0.1f)));
        }
    }

    @Test
    void encodeChecksItsRanges() {
        UnsafeBuffer payload = new UnsafeBuffer(new byte[8]);
        assertThrows(IndexOutOfBoundsException.class, () -> Encoding.FLOAT16.encode(new float[4], 2, 3, null, payload, 0));
        assertThrows(IndexOutOfBoundsException.class,
                () -> Encoding.FLOAT16.encode(new float[4], 0, 4, new float[3], payload, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> Encoding.FLOAT32.encode(new float[4], 0, 3, null, payload, 0));
    }

    // ---- helpers ----

    /** sign * mantissa * 2^exponent of a half's fields, in double; NaN for NaNs, infinity for infinities. */
    private static double halfValueFromFields(int bits) {
        int exponent = (bits >> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        double sign = (bits & 0x8000) != 0 ? -1 : 1;
        if (exponent == 31) {
            return mantissa == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (exponent == 0) {
            return sign * Math.scalb((double) mantissa, -24);
        }
        return sign * Math.scalb(1024.0 + mantissa, exponent - 25);
    }

    /**
     * Index of the value in ascending {@code values} nearest {@code x} (ties to the even index), or
     * {@code overflowIndex} at or above {@code overflowAt}.
     */
    private static int nearestIndex(double[] values, double x, double overflowAt, int overflowIndex) {
        if (x >= overflowAt) {
            return overflowIndex;
        }
        int i = Arrays.binarySearch(values, x);
        if (i >= 0) {
            return i;
        }
        int above = -i - 1;
        if (above == values.length) {
            return values.length - 1;
        }
        int below = above - 1;
        double dBelow = x - values[below];
        double dAbove = values[above] - x;
        return dBelow < dAbove ? below : dAbove < dBelow ? above : (below & 1) == 0 ? below : above;
    }

    private static float[] randomFinite(SplittableRandom rnd, int n, int minExponent, int maxExponent) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(minExponent, maxExponent)));
        }
        if (n > 3) {
            v[rnd.nextInt(n)] = 0f;
        }
        return v;
    }

    private static float[] randomAnyBits(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i % 2 == 0 ? Float.intBitsToFloat(rnd.nextInt())
                    : (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-30, 20)));
        }
        return v;
    }

    private static UnsafeBuffer encode(Encoding encoding, float[] v, float[] residual) {
        UnsafeBuffer payload = new UnsafeBuffer(new byte[encoding.payloadBytes(v.length)]);
        encoding.encode(v, 0, v.length, residual, payload, 0);
        return payload;
    }

    private static float[] decode(Encoding encoding, UnsafeBuffer payload, int n) {
        UnsafeBuffer out = new UnsafeBuffer(new byte[n * Float.BYTES]);
        assertTrue(encoding.decode(payload, 0, n, out, 0), "payload decodes");
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = out.getFloat(i * Float.BYTES, LITTLE_ENDIAN);
        }
        return values;
    }

    private static byte[] bytes(UnsafeBuffer buffer, int length) {
        byte[] out = new byte[length];
        buffer.getBytes(0, out);
        return out;
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
