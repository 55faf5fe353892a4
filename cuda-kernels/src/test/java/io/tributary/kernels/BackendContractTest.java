package io.tributary.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Backend} passes: each operation against a float64 reference on
 * random data of odd sizes, with relative error bounds. Outputs are pre-filled with NaN so an
 * element the backend forgets to write fails the comparison. Subclasses open the backend (and
 * skip, saying why, where it is not available).
 */
public abstract class BackendContractTest {

    /** Printed on failure so that a failing case can be replayed. */
    private static final long SEED = Long.getLong("tributary.test.seed", System.nanoTime());
    private static final int[][] GEMM_SHAPES = {
        {1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {1, 19, 5}, {31, 29, 37}, {64, 64, 64},
        {65, 127, 63}, {129, 67, 131}, {7, 300, 257}, {200, 3, 513}
    };

    protected Backend backend;
    protected SplittableRandom random;

    protected abstract Backend openBackend();

    @BeforeEach
    void open() {
        backend = openBackend();
        random = new SplittableRandom(SEED);
    }

    @AfterEach
    void close() {
        if (backend != null) {
            backend.close();
        }
    }

    // ---- helpers --------------------------------------------------------------------------

    protected float[] randomArray(int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * random.nextDouble());
        }
        return a;
    }

    protected Tensor put(float[] host) {
        Tensor t = backend.allocate(host.length);
        backend.upload(host, 0, t);
        return t;
    }

    protected Tensor nanTensor(int n) {
        Tensor t = backend.allocate(n);
        backend.fill(t, Float.NaN);
        return t;
    }

    protected float[] get(Tensor t) {
        float[] out = new float[t.length()];
        backend.download(t, out, 0);
        return out;
    }

    protected static void assertClose(double[] expected, float[] actual, double relTol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            // norm-wise relative error, as BLAS error bounds are stated: relative to the largest output
            double bound = relTol * Math.max(Math.abs(expected[i]), scale);
            if (!(err <= bound)) { // NaN fails here
                fail(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i]
                        + " (seed " + SEED + ", replay with -Dtributary.test.seed=" + SEED + ")");
            }
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    // ---- memory -----------------------------------------------------------------------------

    @Test
    void uploadDownloadCopyFillAndSlicesRoundTrip() {
        float[] host = randomArray(1001, -3, 3);
        Tensor t = put(host);
        assertClose(toDouble(host), get(t), 0, "upload/download");
        Tensor dst = nanTensor(1001);
        backend.copy(t, dst);
        assertClose(toDouble(host), get(dst), 0, "copy");
        Tensor slice = dst.slice(100, 37);
        backend.fill(slice, 2.5f);
        float[] after = get(dst);
        for (int i = 0; i < host.length; i++) {
            float want = i >= 100 && i < 137 ? 2.5f : host[i];
            assertEquals(want, after[i], 0f, "fill of a slice touched element " + i);
        }
        float[] part = new float[37];
        backend.download(slice, part, 0);
        for (float v : part) {
            assertEquals(2.5f, v, 0f);
        }
        assertEquals(0f, get(backend.allocate(5))[4], 0f, "allocate zero-fills");
    }

    // ---- BLAS -------------------------------------------------------------------------------

    @Test
    void gemmMatchesReferenceForAllTransposesAndOddShapes() {
        for (int[] s : GEMM_SHAPES) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0;
                boolean tb = (t & 2) != 0;
                checkGemm(ta, tb, s[0], s[1], s[2], 1.0f, 0.0f);
            }
        }
        checkGemm(false, false, 33, 45, 21, 0.5f, 1.5f);
        checkGemm(true, true, 19, 8, 77, -2f, -0.25f);
        checkGemm(false, true, 128, 257, 300, 1f, 1f);
    }

    private void checkGemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta) {
        float[] a = randomArray(m * k, -1, 1);
        float[] b = randomArray(k * n, -1, 1);
        float[] c = randomArray(m * n, -1, 1);
        double[] want = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[p * m + i] : a[i * k + p];
                    double bv = tb ? b[j * k + p] : b[p * n + j];
                    acc += av * bv;
                }
                want[i * n + j] = alpha * acc + beta * c[i * n + j];
            }
        }
        Tensor ta0 = put(a);
        Tensor tb0 = put(b);
        Tensor tc = beta == 0 ? nanTensor(m * n) : put(c);
        backend.gemm(ta, tb, m, n, k, alpha, ta0, tb0, beta, tc);
        // error of a k-term float dot product grows like sqrt(k) * eps * sum|a*b|
        double tol = 1e-5 * (4 + Math.sqrt(k)) * 8;
        assertClose(want, get(tc), tol, "gemm ta=" + ta + " tb=" + tb + " m=" + m + " n=" + n + " k=" + k);
    }

    @Test
    void gemmOnSlicesLeavesTheRestUntouched() {
        int m = 9, n = 11, k = 13;
        float[] a = randomArray(m * k + 5, -1, 1);
        float[] b = randomArray(k * n + 3, -1, 1);
        Tensor whole = put(new float[m * n + 10]);
        backend.gemm(false, false, m, n, k, 1f, put(a).slice(5, m * k), put(b).slice(3, k * n), 0f,
                whole.slice(4, m * n));
        float[] out = get(whole);
        for (int i = 0; i < 4; i++) {
            assertEquals(0f, out[i], 0f, "element before the slice was written");
        }
        for (int i = 4 + m * n; i < out.length; i++) {
            assertEquals(0f, out[i], 0f, "element after the slice was written");
        }
        double want = 0;
        for (int p = 0; p < k; p++) {
            want += (double) a[5 + p] * b[3 + p * n];
        }
        assertEquals(want, out[4], 1e-4);
    }

    @Test
    void axpyAndScale() {
        int n = 1337;
        float[] x = randomArray(n, -2, 2);
        float[] y = randomArray(n, -2, 2);
        Tensor ty = put(y);
        backend.axpy(-0.75f, put(x), ty);
        double[] want = new double[n];
        for (int i = 0; i < n; i++) {
            want[i] = y[i] - 0.75 * x[i];
        }
        assertClose(want, get(ty), 1e-6, "axpy");
        backend.scale(3f, ty);
        for (int i = 0; i < n; i++) {
            want[i] *= 3;
        }
        assertClose(want, get(ty), 1e-6, "scale");
    }

    // ---- element-wise ---------------------------------------------------------------------------

    @Test
    void addMulAndBroadcasts() {
        int rows = 37, cols = 53;
        float[] a = randomArray(rows * cols, -5, 5);
        float[] b = randomArray(rows * cols, -5, 5);
        float[] bias = randomArray(cols, -1, 1);
        Tensor out = nanTensor(rows * cols);
        backend.add(put(a), put(b), out);
        double[] want = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            want[i] = (double) a[i] + b[i];
        }
        assertClose(want, get(out), 1e-6, "add");
        backend.mul(put(a), put(b), out);
        for (int i = 0; i < a.length; i++) {
            want[i] = (double) a[i] * b[i];
        }
        assertClose(want, get(out), 1e-6, "mul");
        Tensor m = put(a);
        backend.addRowVector(rows, cols, put(bias), m);
        for (int i = 0; i < a.length; i++) {
            want[i] = (double) a[i] + bias[i % cols];
        }
        assertClose(want, get(m), 1e-6, "addRowVector");
        Tensor sums = nanTensor(cols);
        backend.columnSums(rows, cols, put(a), sums);
        double[] wantSums = new double[cols];
        for (int i = 0; i < a.length; i++) {
            wantSums[i % cols] += a[i];
        }
        assertClose(wantSums, get(sums), 1e-5, "columnSums");
    }

    @Test
    void activationsAndTheirDerivatives() {
        int n = 2049;
        float[] x = randomArray(n, -6, 6);
        float[] g = randomArray(n, -1, 1);
        x[0] = 0f;
        Tensor tx = put(x);
        Tensor out = nanTensor(n);
        Tensor grad = nanTensor(n);
        double[] want = new double[n];

        backend.relu(tx, out);
        for (int i = 0; i < n; i++) {
            want[i] = Math.max(x[i], 0);
        }
        assertClose(want, get(out), 0, "relu");
        backend.reluBackward(tx, put(g), grad);
        for (int i = 0; i < n; i++) {
            want[i] = x[i] > 0 ? g[i] : 0;
        }
        assertClose(want, get(grad), 0, "reluBackward");

        backend.sigmoid(tx, out);
        float[] y = get(out);
        for (int i = 0; i < n; i++) {
            want[i] = 1 / (1 + Math.exp(-x[i]));
        }
        assertClose(want, y, 1e-5, "sigmoid");
        backend.sigmoidBackward(out, put(g), grad);
        for (int i = 0; i < n; i++) {
            want[i] = g[i] * (double) y[i] * (1 - y[i]);
        }
        assertClose(want, get(grad), 1e-5, "sigmoidBackward");

        backend.tanh(tx, out);
        y = get(out);
        for (int i = 0; i < n; i++) {
            want[i] = Math.tanh(x[i]);
        }
        assertClose(want, y, 1e-5, "tanh");
        backend.tanhBackward(out, put(g), grad);
        for (int i = 0; i < n; i++) {
            want[i] = g[i] * (1 - (double) y[i] * y[i]);
        }
        assertClose(want, get(grad), 1e-5, "tanhBackward");
    }

    @Test
    void softmaxRowsIsStableAndNormalised() {
        int rows = 23, cols = 1031;
        float[] x = randomArray(rows * cols, -20, 20);
        x[5] = 80f; // would overflow exp without the max shift
        Tensor out = nanTensor(rows * cols);
        backend.softmaxRows(rows, cols, put(x), out);
        assertClose(referenceSoftmax(rows, cols, x), get(out), 1e-4, "softmaxRows");
    }

    private static double[] referenceSoftmax(int rows, int cols, float[] x) {
        double[] want = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x[r * cols + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(x[r * cols + c] - max);
            }
            for (int c = 0; c < cols; c++) {
                want[r * cols + c] = Math.exp(x[r * cols + c] - max) / sum;
            }
        }
        return want;
    }

    @Test
    void softmaxCrossEntropyLossAndGradient() {
        int rows = 129, cols = 10;
        float[] x = randomArray(rows * cols, -8, 8);
        float[] labels = new float[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = random.nextInt(cols);
        }
        Tensor grad = nanTensor(rows * cols);
        float loss = backend.softmaxCrossEntropy(rows, cols, put(x), put(labels), grad);
        double[] p = referenceSoftmax(rows, cols, x);
        double wantLoss = 0;
        double[] wantGrad = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int y = (int) labels[r];
            wantLoss -= Math.log(p[r * cols + y]);
            for (int c = 0; c < cols; c++) {
                wantGrad[r * cols + c] = (p[r * cols + c] - (c == y ? 1 : 0)) / rows;
            }
        }
        wantLoss /= rows;
        assertEquals(wantLoss, loss, 1e-4 * Math.max(1, wantLoss), "mean loss (seed " + SEED + ")");
        assertClose(wantGrad, get(grad), 1e-4, "softmaxCrossEntropy gradient");
    }

    @Test
    void argmaxRowsTakesTheFirstMaximum() {
        int rows = 41, cols = 17;
        float[] x = randomArray(rows * cols, -1, 1);
        x[3 * cols + 4] = 5f;
        x[3 * cols + 9] = 5f; // tie: the first one wins
        Tensor out = nanTensor(rows);
        backend.argmaxRows(rows, cols, put(x), out);
        float[] got = get(out);
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < cols; c++) {
                if (x[r * cols + c] > x[r * cols + best]) {
                    best = c;
                }
            }
            assertEquals(best, (int) got[r], "argmax of row " + r);
        }
        assertEquals(4, (int) got[3]);
    }

    // ---- reductions -------------------------------------------------------------------------------

    @Test
    void sumDotAndNorm() {
        for (int n : new int[] {1, 7, 1000, 65537}) {
            float[] x = randomArray(n, -1, 1);
            float[] y = randomArray(n, -1, 1);
            double s = 0, d = 0, q = 0;
            for (int i = 0; i < n; i++) {
                s += x[i];
                d += (double) x[i] * y[i];
                q += (double) x[i] * x[i];
            }
            Tensor tx = put(x);
            double tol = 1e-5 * Math.sqrt(n) + 1e-5;
            assertEquals(s, backend.sum(tx), tol * Math.max(1, sumAbs(x)), "sum n=" + n);
            assertEquals(d, backend.dot(tx, put(y)), tol * Math.max(1, n / 3.0), "dot n=" + n);
            assertEquals(Math.sqrt(q), backend.norm2(tx), 1e-5 * Math.sqrt(q) + 1e-6, "norm2 n=" + n);
        }
    }

    private static double sumAbs(float[] x) {
        double s = 0;
        for (float v : x) {
            s += Math.abs(v);
        }
        return s;
    }

    @Test
    void nanIsNeverHiddenByReductions() {
        float[] x = randomArray(100, -1, 1);
        x[57] = Float.NaN;
        Tensor tx = put(x);
        assertTrue(Float.isNaN(backend.sum(tx)), "sum hides NaN");
        assertTrue(Float.isNaN(backend.norm2(tx)), "norm2 hides NaN");
    }

    // ---- optimizer steps --------------------------------------------------------------------------

    @Test
    void sgdMomentumStepMatchesReference() {
        int n = 777;
        float[] p = randomArray(n, -1, 1);
        float[] g = randomArray(n, -1, 1);
        float[] v = randomArray(n, -0.1f, 0.1f);
        Tensor tp = put(p);
        Tensor tv = put(v);
        backend.sgdMomentumStep(tp, put(g), tv, 0.05f, 0.9f, 1e-4f);
        double[] wantV = new double[n];
        double[] wantP = new double[n];
        for (int i = 0; i < n; i++) {
            wantV[i] = 0.9 * v[i] + (g[i] + 1e-4 * p[i]);
            wantP[i] = p[i] - 0.05 * wantV[i];
        }
        assertClose(wantV, get(tv), 1e-5, "sgd velocity");
        assertClose(wantP, get(tp), 1e-5, "sgd params");
    }

    @Test
    void adamStepMatchesReference() {
        int n = 513;
        float[] p = randomArray(n, -1, 1);
        float[] g = randomArray(n, -1, 1);
        float[] m = randomArray(n, -0.1f, 0.1f);
        float[] v = randomArray(n, 0, 0.01f);
        Tensor tp = put(p);
        Tensor tm = put(m);
        Tensor tv = put(v);
        int step = 7;
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        backend.adamStep(tp, put(g), tm, tv, lr, b1, b2, eps, step);
        double[] wantP = new double[n];
        double[] wantM = new double[n];
        double[] wantV = new double[n];
        for (int i = 0; i < n; i++) {
            wantM[i] = b1 * m[i] + (1 - b1) * g[i];
            wantV[i] = b2 * v[i] + (1 - b2) * (double) g[i] * g[i];
            double mh = wantM[i] / (1 - Math.pow(b1, step));
            double vh = wantV[i] / (1 - Math.pow(b2, step));
            wantP[i] = p[i] - lr * mh / (Math.sqrt(vh) + eps);
        }
        assertClose(wantM, get(tm), 1e-5, "adam m");
        assertClose(wantV, get(tv), 1e-4, "adam v");
        assertClose(wantP, get(tp), 1e-5, "adam params");
    }

    @Test
    void aFreedTensorCannotBeFreedAgainAndASliceCannotBeFreedAtAll() {
        Tensor t = backend.allocate(64);
        Tensor other = put(randomArray(16, -1f, 1f));
        float[] before = new float[16];
        backend.download(other, before, 0);
        assertThrows(IllegalArgumentException.class, () -> backend.free(t.slice(8, 16)), "a slice");
        backend.free(t);
        assertThrows(IllegalArgumentException.class, () -> backend.free(t), "freed twice");
        float[] after = new float[16];
        backend.download(other, after, 0);
        assertArrayEquals(before, after, "freeing one tensor leaves the others as they are");
        backend.free(other);
    }
}
