package io.tributary.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The CPU backend's loops on their own, against hand-computed values: windows that start past an
 * array's first element and lengths that leave a scalar tail after the vector loop.
 */
class CpuLoopsTest {

    /** Elements [offset, offset + values.length) of a longer array hold {@code values}; the rest NaN. */
    private static CpuTensor window(int offset, float... values) {
        float[] data = new float[offset + values.length + 3];
        Arrays.fill(data, Float.NaN);
        System.arraycopy(values, 0, data, offset, values.length);
        return new CpuTensor(data, offset, values.length);
    }

    private static float[] values(CpuTensor t) {
        return Arrays.copyOfRange(t.data, t.offset, t.offset + t.length());
    }

    private static float[] ramp(int n) {
        float[] r = new float[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    @Test
    void reductionsOfARampWithATailAreTheClosedForms() {
        CpuTensor x = window(5, ramp(37));
        assertEquals(666f, VectorLoops.sum(x)); // 0 + 1 + ... + 36
        assertEquals(16_206f, VectorLoops.dot(x, x)); // 36 · 37 · 73 / 6
        assertEquals((float) Math.sqrt(16_206), VectorLoops.norm2(x));
        assertEquals(16_206f, new HostBlas(null).dot(x, x));
    }

    @Test
    void axpyScaleAndElementwiseStayInTheirWindows() {
        int n = 37;
        CpuTensor x = window(3, ramp(n));
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        CpuTensor y = window(1, ones);
        VectorLoops.axpy(2f, x, y);
        VectorLoops.scale(0.5f, y);
        CpuTensor sum = window(2, new float[n]);
        VectorLoops.add(x, y, sum);
        CpuTensor product = window(0, new float[n]);
        VectorLoops.mul(x, y, product);
        for (int i = 0; i < n; i++) {
            assertEquals(0.5f + i, y.data[y.offset + i], "y[" + i + "]");
            assertEquals(0.5f + 2 * i, sum.data[sum.offset + i], "sum[" + i + "]");
            assertEquals(i * (0.5f + i), product.data[product.offset + i], "product[" + i + "]");
        }
        assertTrue(Float.isNaN(y.data[0]) && Float.isNaN(y.data[y.offset + n]), "wrote outside its window");
    }

    @Test
    void rowVectorAndColumnSumsOfASmallMatrix() {
        CpuTensor m = window(2, 1, 2, 3, 4, 5, 6); // 2 x 3
        VectorLoops.addRowVector(2, 3, window(1, 10, 20, 30), m);
        assertArrayEquals(new float[] {11, 22, 33, 14, 25, 36}, values(m));
        CpuTensor columns = window(4, Float.NaN, Float.NaN, Float.NaN);
        VectorLoops.columnSums(2, 3, m, columns);
        assertArrayEquals(new float[] {25, 47, 69}, values(columns));
    }

    @Test
    void activationsAndTheirGradients() {
        CpuTensor x = window(1, -2f, 0f, 3f);
        CpuTensor out = window(0, new float[3]);
        VectorLoops.relu(x, out);
        assertArrayEquals(new float[] {0, 0, 3}, values(out));
        VectorLoops.reluBackward(x, window(2, 5, 6, 7), out);
        assertArrayEquals(new float[] {0, 0, 7}, values(out), "the gradient passes where x > 0 only");
        VectorLoops.sigmoid(x, out);
        assertArrayEquals(new float[] {(float) (1 / (1 + Math.exp(2))), 0.5f, (float) (1 / (1 + Math.exp(-3)))},
                values(out));
        VectorLoops.tanh(x, out);
        assertArrayEquals(new float[] {(float) Math.tanh(-2), 0f, (float) Math.tanh(3)}, values(out));
        CpuTensor grad = window(0, new float[2]);
        VectorLoops.sigmoidBackward(window(0, 0.5f, 0.25f), window(0, 4f, 4f), grad);
        assertArrayEquals(new float[] {1f, 0.75f}, values(grad)); // 4 · y · (1 - y)
        VectorLoops.tanhBackward(window(0, 0.5f, 0f), window(0, 4f, 2f), grad);
        assertArrayEquals(new float[] {3f, 2f}, values(grad)); // g · (1 - y²)
    }

    @Test
    void sgdMomentumStepByHand() {
        CpuTensor p = window(1, 1f);
        CpuTensor v = window(0, 0.2f);
        VectorLoops.sgdMomentum(p, window(0, 0.5f), v, 0.1f, 0.9f, 0.01f);
        assertEquals(0.69f, v.data[v.offset], 1e-6f); // 0.9 · 0.2 + 0.5 + 0.01 · 1
        assertEquals(0.931f, p.data[p.offset], 1e-6f); // 1 - 0.1 · 0.69
    }

    @Test
    void firstAdamStepMovesEachParameterByTheLearningRate() {
        // step 1: m = 0.1 g, v = 0.001 g², so the bias-corrected update is g / |g| = ±1 (eps aside)
        CpuTensor p = window(2, 1f, 1f);
        CpuTensor m = window(0, 0f, 0f);
        CpuTensor v = window(0, 0f, 0f);
        VectorLoops.adam(p, window(0, 2f, -3f), m, v, 0.01f, 0.9f, 0.999f, 1e-8f, 1);
        assertArrayEquals(new float[] {0.2f, -0.3f}, values(m), 1e-6f);
        assertArrayEquals(new float[] {0.004f, 0.009f}, values(v), 1e-6f); // 1 - 0.999f is not 0.001 in float
        assertArrayEquals(new float[] {0.99f, 1.01f}, values(p), 1e-6f);
    }

    @Test
    void softmaxAndCrossEntropyOfRowsWithAKnownAnswer() {
        float ln3 = (float) Math.log(3);
        CpuTensor logits = window(1, 0f, ln3, ln3, 0f);
        CpuTensor probabilities = window(0, new float[4]);
        SoftmaxRows.softmax(2, 2, logits, probabilities);
        assertArrayEquals(new float[] {0.25f, 0.75f, 0.75f, 0.25f}, values(probabilities), 1e-6f);

        CpuTensor grad = window(3, new float[4]);
        float loss = SoftmaxRows.crossEntropy(2, 2, logits, window(0, 1f, 0f), grad);
        assertEquals(-Math.log(0.75), loss, 1e-6); // both rows put 3/4 on their label
        // (p - onehot) / rows
        assertArrayEquals(new float[] {0.125f, -0.125f, -0.125f, 0.125f}, values(grad), 1e-6f);
    }

    @Test
    void aLabelOutsideTheClassesIsNamedWithItsRow() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SoftmaxRows.crossEntropy(2, 3, window(0, new float[6]), window(0, 0f, 3f), window(0, new float[6])));
        assertEquals("label 3 of row 1 is outside 0..2", e.getMessage());
    }

    @Test
    void argmaxTakesTheFirstOfEqualMaxima() {
        CpuTensor out = window(1, Float.NaN, Float.NaN);
        SoftmaxRows.argmax(2, 3, window(0, 1, 3, 3, 9, -1, 2), out);
        assertArrayEquals(new float[] {1, 0}, values(out));
    }

    @Test
    void javaGemmOfTwoByTwoMatricesByHandWithoutReadingC() {
        HostBlas java = new HostBlas(null);
        CpuTensor a = window(1, 1, 2, 3, 4);
        CpuTensor b = window(2, 5, 6, 7, 8);
        CpuTensor c = window(0, Float.NaN, Float.NaN, Float.NaN, Float.NaN);
        java.gemm(false, false, 2, 2, 2, 1f, a, b, 0f, c);
        assertArrayEquals(new float[] {19, 22, 43, 50}, values(c), "NaN in C must not survive beta = 0");
        java.gemm(true, false, 2, 2, 2, 1f, a, b, 0f, c);
        assertArrayEquals(new float[] {26, 30, 38, 44}, values(c), "A transposed");
        java.gemm(false, false, 2, 2, 2, 2f, a, b, -1f, c);
        assertArrayEquals(new float[] {12, 14, 48, 56}, values(c), "2·A·B - C");
    }

    @Test
    void adamFlushesSubnormalBoundMomentsAndTinyGradientsToZero() {
        int n = 37; // a vector part and a scalar tail
        float[] m0 = new float[n];
        float[] g0 = new float[n];
        Arrays.fill(m0, 1e-31f); // 0.9 * 1e-31 would be 9e-32: under TINY_MOMENT, so 0
        Arrays.fill(g0, 1e-20f); // g^2 = 1e-40 would be subnormal: the gradient counts as 0
        m0[3] = 1e-3f;           // an ordinary moment decays as usual: 0.9e-3
        CpuTensor p = window(2, new float[n]);
        CpuTensor g = window(1, g0);
        CpuTensor m = window(3, m0);
        CpuTensor v = window(4, new float[n]);
        VectorLoops.adam(p, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 1);
        for (int i = 0; i < n; i++) {
            if (i == 3) {
                assertEquals(0.9e-3f, values(m)[i], 1e-9f);
                continue;
            }
            assertEquals(0f, values(m)[i], "m[" + i + "]");
            assertEquals(0f, values(v)[i], "v[" + i + "]");
            assertEquals(0f, values(p)[i], "p[" + i + "]");
        }
        for (float x : values(m)) {
            assertTrue(x == 0f || Math.abs(x) >= Float.MIN_NORMAL, "no subnormal moment: " + x);
        }
    }
}

