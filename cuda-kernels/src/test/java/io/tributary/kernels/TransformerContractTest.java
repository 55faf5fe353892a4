package io.tributary.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The transformer operations of a {@link Backend} against float64 references written here from
 * their definitions: forward passes against the formula, backward passes against central finite
 * differences (in double) of the reference forward pass, with {@code sum(gradOut · out)} as the
 * scalar. Outputs are pre-filled with NaN so an element a backend forgets fails. Odd sizes.
 */
public abstract class TransformerContractTest {

    private static final long SEED = Long.getLong("tributary.test.seed", System.nanoTime());

    protected Backend backend;
    private SplittableRandom random;

    protected abstract Backend openBackend();

    @BeforeEach
    void open() {
        backend = openBackend();
        random = new SplittableRandom(SEED);
    }

    @AfterEach
    void close() {
        backend.close();
    }

    private double[] rnd(int n, double lo, double hi) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * random.nextDouble());
        }
        return a;
    }

    private Tensor put(double[] host) {
        float[] f = new float[host.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) host[i];
        }
        Tensor t = backend.allocate(f.length);
        backend.upload(f, 0, t);
        return t;
    }

    private Tensor nan(int n) {
        Tensor t = backend.allocate(n);
        backend.fill(t, Float.NaN);
        return t;
    }

    private float[] get(Tensor t) {
        float[] out = new float[t.length()];
        backend.download(t, out, 0);
        return out;
    }

    private static void close(double[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 1e-3;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            if (!(err <= tol * Math.max(scale, Math.abs(expected[i])))) {
                fail(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i] + " (seed " + SEED
                        + ", replay with -Dtributary.test.seed=" + SEED + ")");
            }
        }
    }

    /** d/dx of sum(w · f(x)) by central differences in double. */
    private static double[] numericGradient(double[] x, double[] w, Function<double[], double[]> f) {
        double[] g = new double[x.length];
        double h = 1e-6;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double up = dot(w, f.apply(x));
            x[i] = keep - h;
            double down = dot(w, f.apply(x));
            x[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    // ---- embeddings -------------------------------------------------------------------------

    @Test
    void gatherCopiesTheIdsRowsAndScatterAddsGradientsBackToThem() {
        int rows = 23;
        int dim = 13;
        int vocab = 7;
        double[] table = rnd(vocab * dim, -1, 1);
        double[] ids = new double[rows];
        for (int r = 0; r < rows; r++) {
            ids[r] = random.nextInt(vocab);
        }
        Tensor out = nan(rows * dim);
        backend.gatherRows(rows, dim, put(table), put(ids), out);
        double[] want = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(table, (int) ids[r] * dim, want, r * dim, dim);
        }
        close(want, get(out), 0, "gatherRows");

        double[] grad = rnd(rows * dim, -1, 1);
        double[] base = rnd(vocab * dim, -1, 1);
        Tensor tableGrad = put(base);
        backend.scatterAddRows(rows, dim, put(grad), put(ids), tableGrad);
        double[] wantGrad = base.clone();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                wantGrad[(int) ids[r] * dim + c] += grad[r * dim + c];
            }
        }
        close(wantGrad, get(tableGrad), 1e-6, "scatterAddRows");
    }

    @Test
    void anIdOutsideTheTableIsRefusedSayingSo() {
        Tensor table = backend.allocate(4 * 3);
        Tensor ids = put(new double[] {1, 4});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.gatherRows(2, 3, table, ids, backend.allocate(6)));
        assertEquals(true, e.getMessage().contains("vocabulary"), e.getMessage());
    }

    @Test
    void periodicRowsAddThePositionTableAndSumItsGradient() {
        int period = 5;
        int rows = 3 * period;
        int dim = 11;
        double[] table = rnd(period * dim, -1, 1);
        double[] x = rnd(rows * dim, -1, 1);
        Tensor xt = put(x);
        backend.addPeriodicRows(rows, period, dim, put(table), xt);
        double[] want = x.clone();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                want[r * dim + c] += table[(r % period) * dim + c];
            }
        }
        close(want, get(xt), 1e-6, "addPeriodicRows");
        Tensor sums = nan(period * dim);
        backend.sumPeriodicRows(rows, period, dim, put(x), sums);
        double[] wantSums = new double[period * dim];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                wantSums[(r % period) * dim + c] += x[r * dim + c];
            }
        }
        close(wantSums, get(sums), 1e-6, "sumPeriodicRows");
    }

    // ---- LayerNorm --------------------------------------------------------------------------

    private static double[] layerNormRef(int rows, int dim, double eps, double[] x, double[] gamma, double[] beta) {
        double[] out = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double mu = 0;
            for (int c = 0; c < dim; c++) {
                mu += x[r * dim + c];
            }
            mu /= dim;
            double var = 0;
            for (int c = 0; c < dim; c++) {
                var += (x[r * dim + c] - mu) * (x[r * dim + c] - mu);
            }
            var /= dim;
            for (int c = 0; c < dim; c++) {
                out[r * dim + c] = (x[r * dim + c] - mu) / Math.sqrt(var + eps) * gamma[c] + beta[c];
            }
        }
        return out;
    }

    @Test
    void layerNormMatchesTheFormulaAndItsBackwardTheFiniteDifferences() {
        int rows = 9;
        int dim = 19;
        float eps = 1e-5f;
        double[] x = rnd(rows * dim, -2, 3);
        double[] gamma = rnd(dim, 0.5, 1.5);
        double[] beta = rnd(dim, -0.5, 0.5);
        Tensor xt = put(x);
        Tensor gt = put(gamma);
        Tensor out = nan(rows * dim);
        Tensor mean = nan(rows);
        Tensor rstd = nan(rows);
        backend.layerNorm(rows, dim, eps, xt, gt, put(beta), out, mean, rstd);
        close(layerNormRef(rows, dim, eps, x, gamma, beta), get(out), 1e-5, "layerNorm");

        double[] w = rnd(rows * dim, -1, 1);
        Tensor gradIn = nan(rows * dim);
        Tensor gradGamma = nan(dim);
        Tensor gradBeta = nan(dim);
        backend.layerNormBackward(rows, dim, xt, mean, rstd, gt, put(w), gradIn, gradGamma, gradBeta);
        close(numericGradient(x, w, xs -> layerNormRef(rows, dim, eps, xs, gamma, beta)), get(gradIn), 1e-4,
                "layerNorm input gradient");
        close(numericGradient(gamma, w, gs -> layerNormRef(rows, dim, eps, x, gs, beta)), get(gradGamma), 1e-4,
                "layerNorm gamma gradient");
        close(numericGradient(beta, w, bs -> layerNormRef(rows, dim, eps, x, gamma, bs)), get(gradBeta), 1e-4,
                "layerNorm beta gradient");
    }

    // ---- GELU -------------------------------------------------------------------------------

    /** erf by its Taylor series (converges for all x; enough terms for |x| <= 6 in double). */
    private static double erfSeries(double x) {
        double sum = 0;
        double term = x;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    private static double[] geluRef(double[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * 0.5 * (1 + erfSeries(x[i] / Math.sqrt(2)));
        }
        return out;
    }

    @Test
    void geluIsTheExactErfFormAndItsBackwardTheFiniteDifferences() {
        double[] x = rnd(301, -5, 5);
        x[0] = 0;
        x[1] = -3;
        x[2] = 1;
        Tensor xt = put(x);
        Tensor out = nan(x.length);
        backend.gelu(xt, out);
        float[] got = get(out);
        close(geluRef(x), got, 1e-6, "gelu");
        // hand-computed: gelu(1) = Phi(1) = 0.8413447460685429; gelu(-3) = -3 Phi(-3) = -0.00404969409...
        assertEquals(0.8413447, got[2], 1e-6);
        assertEquals(-0.00404969, got[1], 1e-7);
        double[] w = rnd(x.length, -1, 1);
        Tensor gradIn = nan(x.length);
        backend.geluBackward(xt, put(w), gradIn);
        close(numericGradient(x, w, TransformerContractTest::geluRef), get(gradIn), 1e-5, "gelu gradient");
    }

    // ---- attention layout and softmax ---------------------------------------------------------

    @Test
    void headsAreCutAndMergedByTheirIndexFormula() {
        int batch = 3;
        int time = 5;
        int heads = 2;
        int hd = 3;
        int c = heads * hd;
        int n = batch * time * c;
        double[] qkv = rnd(3 * n, -1, 1);
        Tensor q = nan(n);
        Tensor k = nan(n);
        Tensor v = nan(n);
        backend.splitHeads(batch, time, heads, hd, put(qkv), q, k, v);
        double[][] want = new double[3][n];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                for (int h = 0; h < heads; h++) {
                    for (int d = 0; d < hd; d++) {
                        for (int part = 0; part < 3; part++) {
                            want[part][((b * heads + h) * time + t) * hd + d] =
                                    qkv[(b * time + t) * 3 * c + part * c + h * hd + d];
                        }
                    }
                }
            }
        }
        close(want[0], get(q), 0, "q");
        close(want[1], get(k), 0, "k");
        close(want[2], get(v), 0, "v");
        Tensor back = nan(3 * n);
        backend.joinHeads(batch, time, heads, hd, q, k, v, back);
        close(qkv, get(back), 0, "joinHeads undoes splitHeads");

        double[] y = rnd(n, -1, 1);
        Tensor rows = nan(n);
        backend.mergeHeads(batch, time, heads, hd, put(y), rows);
        double[] wantRows = new double[n];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < time; t++) {
                    for (int d = 0; d < hd; d++) {
                        wantRows[(b * time + t) * c + h * hd + d] = y[((b * heads + h) * time + t) * hd + d];
                    }
                }
            }
        }
        close(wantRows, get(rows), 0, "mergeHeads");
        Tensor yBack = nan(n);
        backend.unmergeHeads(batch, time, heads, hd, rows, yBack);
        close(y, get(yBack), 0, "unmergeHeads undoes mergeHeads");
    }

    private static double[] causalSoftmaxRef(int blocks, int time, double scale, double[] s) {
        double[] p = new double[s.length];
        for (int blk = 0; blk < blocks; blk++) {
            for (int i = 0; i < time; i++) {
                int row = (blk * time + i) * time;
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    sum += Math.exp(scale * s[row + j]);
                }
                for (int j = 0; j <= i; j++) {
                    p[row + j] = Math.exp(scale * s[row + j]) / sum;
                }
            }
        }
        return p;
    }

    @Test
    void causalSoftmaxMasksTheFutureAndItsBackwardIsTheFiniteDifferences() {
        int blocks = 3;
        int time = 7;
        float scale = 0.37f;
        double[] s = rnd(blocks * time * time, -4, 4);
        Tensor st = put(s);
        Tensor p = nan(s.length);
        backend.causalSoftmax(blocks, time, scale, st, p);
        float[] got = get(p);
        close(causalSoftmaxRef(blocks, time, scale, s), got, 1e-5, "causalSoftmax");
        assertEquals(1f, got[0], 0f, "the first position attends only to itself");
        assertEquals(0f, got[1], 0f, "and never to the next");

        double[] w = rnd(s.length, -1, 1);
        Tensor gs = nan(s.length);
        backend.softmaxBackward(blocks * time, time, scale, p, put(w), gs);
        close(numericGradient(s, w, x -> causalSoftmaxRef(blocks, time, scale, x)), get(gs), 1e-4,
                "causal softmax gradient");
    }
}
