package io.tributary.kernels.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU backend's element-wise, row-vector, reduction and optimizer loops over host tensors, on
 * the Vector API with a scalar tail. Lengths and shapes are checked by the caller; the element
 * count is the first tensor's length unless a shape is given. Nothing here allocates on the heap.
 */
final class VectorLoops {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();

    private VectorLoops() {
    }

    /** The vector width in bits, for the backend's description. */
    static int vectorBits() {
        return S.vectorBitSize();
    }

    /** {@code y += alpha·x}. */
    static void axpy(float alpha, CpuTensor x, CpuTensor y) {
        // Memory-bound: the Vector API loop keeps up with the bus, and skips the JNI call and
        // OpenBLAS's thread hand-off, which made native saxpy 0.25-0.98 of a plain loop here
        // (DataPlaneTable, row c).
        int n = x.length();
        float[] xd = x.data, yd = y.data;
        int xo = x.offset, yo = y.offset;
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, xd, xo + i).mul(alpha).add(FloatVector.fromArray(S, yd, yo + i)).intoArray(yd, yo + i);
        }
        for (; i < n; i++) {
            yd[yo + i] += alpha * xd[xo + i];
        }
    }

    /** {@code x *= alpha}. */
    static void scale(float alpha, CpuTensor x) {
        int n = x.length();
        float[] d = x.data;
        int o = x.offset;
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, d, o + i).mul(alpha).intoArray(d, o + i);
        }
        for (; i < n; i++) {
            d[o + i] *= alpha;
        }
    }

    /** {@code out = a + b}. */
    static void add(CpuTensor a, CpuTensor b, CpuTensor out) {
        int n = a.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, a.data, a.offset + i).add(FloatVector.fromArray(S, b.data, b.offset + i))
                    .intoArray(out.data, out.offset + i);
        }
        for (; i < n; i++) {
            out.data[out.offset + i] = a.data[a.offset + i] + b.data[b.offset + i];
        }
    }

    /** {@code out = a * b}, element by element. */
    static void mul(CpuTensor a, CpuTensor b, CpuTensor out) {
        int n = a.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, a.data, a.offset + i).mul(FloatVector.fromArray(S, b.data, b.offset + i))
                    .intoArray(out.data, out.offset + i);
        }
        for (; i < n; i++) {
            out.data[out.offset + i] = a.data[a.offset + i] * b.data[b.offset + i];
        }
    }

    /** Adds {@code bias[0, cols)} to each of the {@code rows} rows of the row-major matrix {@code m}. */
    static void addRowVector(int rows, int cols, CpuTensor bias, CpuTensor m) {
        for (int r = 0; r < rows; r++) {
            int row = m.offset + r * cols;
            int i = 0;
            for (; i < S.loopBound(cols); i += V) {
                FloatVector.fromArray(S, m.data, row + i).add(FloatVector.fromArray(S, bias.data, bias.offset + i))
                        .intoArray(m.data, row + i);
            }
            for (; i < cols; i++) {
                m.data[row + i] += bias.data[bias.offset + i];
            }
        }
    }

    /** Writes the sum of each column of the row-major {@code rows × cols} matrix {@code m} to {@code out}. */
    static void columnSums(int rows, int cols, CpuTensor m, CpuTensor out) {
        Arrays.fill(out.data, out.offset, out.offset + cols, 0f);
        for (int r = 0; r < rows; r++) {
            int row = m.offset + r * cols;
            int i = 0;
            for (; i < S.loopBound(cols); i += V) {
                FloatVector.fromArray(S, out.data, out.offset + i).add(FloatVector.fromArray(S, m.data, row + i))
                        .intoArray(out.data, out.offset + i);
            }
            for (; i < cols; i++) {
                out.data[out.offset + i] += m.data[row + i];
            }
        }
    }

    static void relu(CpuTensor x, CpuTensor out) {
        int n = x.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector.fromArray(S, x.data, x.offset + i).max(0f).intoArray(out.data, out.offset + i);
        }
        for (; i < n; i++) {
            out.data[out.offset + i] = Math.max(x.data[x.offset + i], 0f);
        }
    }

    /** {@code gradIn = x > 0 ? gradOut : 0}. */
    static void reluBackward(CpuTensor x, CpuTensor gradOut, CpuTensor gradIn) {
        int n = x.length();
        int i = 0;
        FloatVector zero = FloatVector.zero(S);
        for (; i < S.loopBound(n); i += V) {
            var positive = FloatVector.fromArray(S, x.data, x.offset + i).compare(VectorOperators.GT, 0f);
            zero.blend(FloatVector.fromArray(S, gradOut.data, gradOut.offset + i), positive)
                    .intoArray(gradIn.data, gradIn.offset + i);
        }
        for (; i < n; i++) {
            gradIn.data[gradIn.offset + i] = x.data[x.offset + i] > 0f ? gradOut.data[gradOut.offset + i] : 0f;
        }
    }

    /** The logistic function, per element in double precision (a scalar loop). */
    static void sigmoid(CpuTensor x, CpuTensor out) {
        for (int i = 0; i < x.length(); i++) {
            out.data[out.offset + i] = (float) (1.0 / (1.0 + Math.exp(-x.data[x.offset + i])));
        }
    }

    /** {@code gradIn = gradOut · y · (1 - y)} where {@code y} is the sigmoid's output. */
    static void sigmoidBackward(CpuTensor y, CpuTensor gradOut, CpuTensor gradIn) {
        for (int i = 0; i < y.length(); i++) {
            float v = y.data[y.offset + i];
            gradIn.data[gradIn.offset + i] = gradOut.data[gradOut.offset + i] * v * (1f - v);
        }
    }

    /** The hyperbolic tangent, per element in double precision (a scalar loop). */
    static void tanh(CpuTensor x, CpuTensor out) {
        for (int i = 0; i < x.length(); i++) {
            out.data[out.offset + i] = (float) Math.tanh(x.data[x.offset + i]);
        }
    }

    /** {@code gradIn = gradOut · (1 - y²)} where {@code y} is the tanh's output. */
    static void tanhBackward(CpuTensor y, CpuTensor gradOut, CpuTensor gradIn) {
        for (int i = 0; i < y.length(); i++) {
            float v = y.data[y.offset + i];
            gradIn.data[gradIn.offset + i] = gradOut.data[gradOut.offset + i] * (1f - v * v);
        }
    }

    static float sum(CpuTensor x) {
        int n = x.length();
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            acc = acc.add(FloatVector.fromArray(S, x.data, x.offset + i));
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += x.data[x.offset + i];
        }
        return (float) s;
    }

    static float dot(CpuTensor x, CpuTensor y) {
        int n = x.length();
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            acc = FloatVector.fromArray(S, x.data, x.offset + i).fma(FloatVector.fromArray(S, y.data, y.offset + i), acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += x.data[x.offset + i] * y.data[y.offset + i];
        }
        return (float) s;
    }

    /** The Euclidean norm as a plain sum of squares: OpenBLAS's scaled snrm2 may skip NaN on some kernels. */
    static float norm2(CpuTensor x) {
        int n = x.length();
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector v = FloatVector.fromArray(S, x.data, x.offset + i);
            acc = v.fma(v, acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            double v = x.data[x.offset + i];
            s += v * v;
        }
        return (float) Math.sqrt(s);
    }

    /** {@code v = momentum·v + (g + weightDecay·p); p -= lr·v}. */
    static void sgdMomentum(CpuTensor p, CpuTensor g, CpuTensor v, float lr, float momentum, float weightDecay) {
        int n = p.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector pv = FloatVector.fromArray(S, p.data, p.offset + i);
            FloatVector gv = FloatVector.fromArray(S, g.data, g.offset + i).add(pv.mul(weightDecay));
            FloatVector vv = FloatVector.fromArray(S, v.data, v.offset + i).mul(momentum).add(gv);
            vv.intoArray(v.data, v.offset + i);
            pv.sub(vv.mul(lr)).intoArray(p.data, p.offset + i);
        }
        for (; i < n; i++) {
            float pv = p.data[p.offset + i];
            float vv = momentum * v.data[v.offset + i] + (g.data[g.offset + i] + weightDecay * pv);
            v.data[v.offset + i] = vv;
            p.data[p.offset + i] = pv - lr * vv;
        }
    }

    /**
     * Below these magnitudes a gradient, first moment or second moment is taken as 0. The JVM has no
     * flush-to-zero mode, and subnormal floats cost this CPU a microcode assist per operation: the
     * first moment of a weight whose input is rarely non-zero decays by beta1 = 0.9 per step into the
     * subnormal range within ~700 steps, and g² of |g| < 1e-19 lands there at once. Measured: a local-SGD
     * round of 3,328 MNIST samples took ~450 ms in a trainer without the flush (Adam was most samples of
     * its stack) and ~150 ms with it (the trainers' "per step" log lines of a local-SGD demo; docs/
     * benchmarks.md, "Pooling must pay"). What a flushed value would have
     * moved a parameter by is at most about 1e-9 of the learning rate (a first moment under 1e-18 over
     * epsilon = 1e-8, times a bias correction of at most 10).
     */
    static final float TINY_GRADIENT = 1e-18f;
    static final float TINY_MOMENT = 1e-30f;

    /** One Adam step; {@code step} is 1-based (checked by the caller). Tiny values are flushed to 0 (see {@link #TINY_MOMENT}). */
    static void adam(CpuTensor tp, CpuTensor tg, CpuTensor tm, CpuTensor tv, float lr, float beta1, float beta2,
                     float eps, int step) {
        float c1 = (float) (1.0 / (1.0 - Math.pow(beta1, step)));
        float c2 = (float) (1.0 / (1.0 - Math.pow(beta2, step)));
        float ob1 = 1f - beta1, ob2 = 1f - beta2;
        int n = tp.length();
        int i = 0;
        for (; i < S.loopBound(n); i += V) {
            FloatVector g = FloatVector.fromArray(S, tg.data, tg.offset + i);
            g = g.blend(0f, g.abs().lt(TINY_GRADIENT));
            FloatVector mm = FloatVector.fromArray(S, tm.data, tm.offset + i).mul(beta1).add(g.mul(ob1));
            mm = mm.blend(0f, mm.abs().lt(TINY_MOMENT));
            FloatVector vv = FloatVector.fromArray(S, tv.data, tv.offset + i).mul(beta2).add(g.mul(g).mul(ob2));
            vv = vv.blend(0f, vv.lt(TINY_MOMENT));
            mm.intoArray(tm.data, tm.offset + i);
            vv.intoArray(tv.data, tv.offset + i);
            FloatVector update = mm.mul(c1).div(vv.mul(c2).sqrt().add(eps));
            FloatVector.fromArray(S, tp.data, tp.offset + i).sub(update.mul(lr)).intoArray(tp.data, tp.offset + i);
        }
        for (; i < n; i++) {
            float g = tg.data[tg.offset + i];
            g = Math.abs(g) < TINY_GRADIENT ? 0f : g;
            float mm = beta1 * tm.data[tm.offset + i] + ob1 * g;
            mm = Math.abs(mm) < TINY_MOMENT ? 0f : mm;
            float vv = beta2 * tv.data[tv.offset + i] + ob2 * g * g;
            vv = vv < TINY_MOMENT ? 0f : vv;
            tm.data[tm.offset + i] = mm;
            tv.data[tv.offset + i] = vv;
            tp.data[tp.offset + i] -= lr * (mm * c1) / ((float) Math.sqrt(vv * c2) + eps);
        }
    }
}
