package io.tributary.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU backend's transformer operations (see {@link io.tributary.kernels.Backend}): embedding
 * gather and scatter-add, learned positions, LayerNorm, the exact GELU, the per-head layout of
 * attention and its causal softmax. Plain loops over the backing arrays, sums in double where rows
 * are reduced; shapes are checked by the caller; nothing is allocated.
 */
final class TransformerLoops {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);

    private TransformerLoops() {
    }

    static void gatherRows(int rows, int dim, CpuTensor table, CpuTensor ids, CpuTensor out, int tableRows) {
        for (int r = 0; r < rows; r++) {
            int id = id(ids, r, tableRows);
            System.arraycopy(table.data, table.offset + id * dim, out.data, out.offset + r * dim, dim);
        }
    }

    static void scatterAddRows(int rows, int dim, CpuTensor grad, CpuTensor ids, CpuTensor tableGrad, int tableRows) {
        float[] g = grad.data;
        float[] t = tableGrad.data;
        for (int r = 0; r < rows; r++) {
            int to = tableGrad.offset + id(ids, r, tableRows) * dim;
            int from = grad.offset + r * dim;
            for (int c = 0; c < dim; c++) {
                t[to + c] += g[from + c];
            }
        }
    }

    private static int id(CpuTensor ids, int r, int tableRows) {
        float f = ids.data[ids.offset + r];
        int id = (int) f;
        if (id != f || id < 0 || id >= tableRows) {
            throw new IllegalArgumentException("id " + f + " at row " + r + " is not a row of a table of " + tableRows
                    + " rows: the data holds a token the vocabulary does not");
        }
        return id;
    }

    static void addPeriodicRows(int rows, int period, int dim, CpuTensor table, CpuTensor x) {
        float[] t = table.data;
        float[] d = x.data;
        for (int r = 0; r < rows; r++) {
            int from = table.offset + (r % period) * dim;
            int to = x.offset + r * dim;
            for (int c = 0; c < dim; c++) {
                d[to + c] += t[from + c];
            }
        }
    }

    static void sumPeriodicRows(int rows, int period, int dim, CpuTensor x, CpuTensor out) {
        java.util.Arrays.fill(out.data, out.offset, out.offset + period * dim, 0f);
        float[] s = x.data;
        float[] o = out.data;
        for (int r = 0; r < rows; r++) {
            int from = x.offset + r * dim;
            int to = out.offset + (r % period) * dim;
            for (int c = 0; c < dim; c++) {
                o[to + c] += s[from + c];
            }
        }
    }

    static void layerNorm(int rows, int dim, float eps, CpuTensor x, CpuTensor gamma, CpuTensor beta, CpuTensor out,
                          CpuTensor mean, CpuTensor rstd) {
        float[] xs = x.data;
        float[] os = out.data;
        float[] gs = gamma.data;
        float[] bs = beta.data;
        for (int r = 0; r < rows; r++) {
            int xo = x.offset + r * dim;
            double sum = 0;
            for (int c = 0; c < dim; c++) {
                sum += xs[xo + c];
            }
            double mu = sum / dim;
            double var = 0;
            for (int c = 0; c < dim; c++) {
                double d = xs[xo + c] - mu;
                var += d * d;
            }
            float m = (float) mu;
            float s = (float) (1.0 / Math.sqrt(var / dim + eps));
            mean.data[mean.offset + r] = m;
            rstd.data[rstd.offset + r] = s;
            int oo = out.offset + r * dim;
            for (int c = 0; c < dim; c++) {
                os[oo + c] = (xs[xo + c] - m) * s * gs[gamma.offset + c] + bs[beta.offset + c];
            }
        }
    }

    static void layerNormBackward(int rows, int dim, CpuTensor x, CpuTensor mean, CpuTensor rstd, CpuTensor gamma,
                                  CpuTensor gradOut, CpuTensor gradIn, CpuTensor gradGamma, CpuTensor gradBeta) {
        float[] xs = x.data;
        float[] go = gradOut.data;
        float[] gi = gradIn.data;
        float[] gg = gradGamma.data;
        float[] gb = gradBeta.data;
        float[] gam = gamma.data;
        java.util.Arrays.fill(gg, gradGamma.offset, gradGamma.offset + dim, 0f);
        java.util.Arrays.fill(gb, gradBeta.offset, gradBeta.offset + dim, 0f);
        for (int r = 0; r < rows; r++) {
            int xo = x.offset + r * dim;
            int go0 = gradOut.offset + r * dim;
            float m = mean.data[mean.offset + r];
            float s = rstd.data[rstd.offset + r];
            // dxhat = dy * gamma; dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
            double sumD = 0;
            double sumDX = 0;
            for (int c = 0; c < dim; c++) {
                float xhat = (xs[xo + c] - m) * s;
                float dy = go[go0 + c];
                float dxhat = dy * gam[gamma.offset + c];
                sumD += dxhat;
                sumDX += dxhat * xhat;
                gg[gradGamma.offset + c] += dy * xhat;
                gb[gradBeta.offset + c] += dy;
            }
            float meanD = (float) (sumD / dim);
            float meanDX = (float) (sumDX / dim);
            int gi0 = gradIn.offset + r * dim;
            for (int c = 0; c < dim; c++) {
                float xhat = (xs[xo + c] - m) * s;
                float dxhat = go[go0 + c] * gam[gamma.offset + c];
                gi[gi0 + c] = s * (dxhat - meanD - xhat * meanDX);
            }
        }
    }

    static void gelu(CpuTensor x, CpuTensor out) {
        float[] xs = x.data;
        float[] os = out.data;
        int n = x.length();
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, xs, x.offset + i);
            v.mul(phiCdf(v)).intoArray(os, out.offset + i);
        }
        for (; i < n; i++) {
            double v = xs[x.offset + i];
            os[out.offset + i] = (float) (v * phiCdf(v));
        }
    }

    static void geluBackward(CpuTensor x, CpuTensor gradOut, CpuTensor gradIn) {
        float[] xs = x.data;
        float[] go = gradOut.data;
        float[] gi = gradIn.data;
        int n = x.length();
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, xs, x.offset + i);
            FloatVector pdf = v.mul(v).mul(-0.5f).lanewise(VectorOperators.EXP).mul((float) INV_SQRT_2PI);
            FloatVector d = phiCdf(v).add(v.mul(pdf));
            FloatVector.fromArray(S, go, gradOut.offset + i).mul(d).intoArray(gi, gradIn.offset + i);
        }
        for (; i < n; i++) {
            double v = xs[x.offset + i];
            double d = phiCdf(v) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
            gi[gradIn.offset + i] = (float) (go[gradOut.offset + i] * d);
        }
    }

    /** {@link #phiCdf(double)} lane by lane, in float: the same fit, evaluated with one vector exp. */
    private static FloatVector phiCdf(FloatVector x) {
        FloatVector z = x.mul((float) INV_SQRT2).abs();
        FloatVector t = FloatVector.broadcast(S, 1f).div(z.mul(0.5f).add(1f));
        FloatVector poly = t.mul(0.17087277f).add(-0.82215223f).mul(t).add(1.48851587f).mul(t).add(-1.13520398f)
                .mul(t).add(0.27886807f).mul(t).add(-0.18628806f).mul(t).add(0.09678418f).mul(t).add(0.37409196f)
                .mul(t).add(1.00002368f).mul(t).add(-1.26551223f);
        FloatVector erfc = t.mul(z.mul(z).neg().add(poly).lanewise(VectorOperators.EXP));
        // Phi(x) = 1 - erfc/2 for x >= 0, erfc/2 for x < 0
        FloatVector half = erfc.mul(0.5f);
        return half.neg().add(1f).blend(half, x.compare(VectorOperators.LT, 0f));
    }

    /** The standard normal CDF, {@code (1 + erf(x / sqrt 2)) / 2}. */
    static double phiCdf(double x) {
        return 0.5 * (1.0 + erf(x * INV_SQRT2));
    }

    /**
     * erf to about 1.2e-7 relative error everywhere (the Chebyshev fit of erfc in Numerical Recipes,
     * 3rd ed., 6.2.2): ample for float32 results.
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }

    static void splitHeads(int batch, int time, int heads, int headDim, CpuTensor qkv, CpuTensor q, CpuTensor k,
                           CpuTensor v, boolean join) {
        int c = heads * headDim;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                int row = qkv.offset + (b * time + t) * 3 * c;
                for (int h = 0; h < heads; h++) {
                    int dst = ((b * heads + h) * time + t) * headDim;
                    int src = row + h * headDim;
                    if (join) {
                        System.arraycopy(q.data, q.offset + dst, qkv.data, src, headDim);
                        System.arraycopy(k.data, k.offset + dst, qkv.data, src + c, headDim);
                        System.arraycopy(v.data, v.offset + dst, qkv.data, src + 2 * c, headDim);
                    } else {
                        System.arraycopy(qkv.data, src, q.data, q.offset + dst, headDim);
                        System.arraycopy(qkv.data, src + c, k.data, k.offset + dst, headDim);
                        System.arraycopy(qkv.data, src + 2 * c, v.data, v.offset + dst, headDim);
                    }
                }
            }
        }
    }

    static void mergeHeads(int batch, int time, int heads, int headDim, CpuTensor y, CpuTensor rows, boolean merge) {
        int c = heads * headDim;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < time; t++) {
                    int yo = y.offset + ((b * heads + h) * time + t) * headDim;
                    int ro = rows.offset + (b * time + t) * c + h * headDim;
                    if (merge) {
                        System.arraycopy(y.data, yo, rows.data, ro, headDim);
                    } else {
                        System.arraycopy(rows.data, ro, y.data, yo, headDim);
                    }
                }
            }
        }
    }

    static void causalSoftmax(int blocks, int time, float scale, CpuTensor scores, CpuTensor probs) {
        float[] s = scores.data;
        float[] p = probs.data;
        for (int blk = 0; blk < blocks; blk++) {
            for (int i = 0; i < time; i++) {
                int so = scores.offset + (blk * time + i) * time;
                int po = probs.offset + (blk * time + i) * time;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    max = Math.max(max, scale * s[so + j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    float e = (float) Math.exp(scale * s[so + j] - max);
                    p[po + j] = e;
                    sum += e;
                }
                float inv = (float) (1.0 / sum);
                for (int j = 0; j <= i; j++) {
                    p[po + j] *= inv;
                }
                for (int j = i + 1; j < time; j++) {
                    p[po + j] = 0f;
                }
            }
        }
    }

    static void softmaxBackward(int rows, int cols, float scale, CpuTensor probs, CpuTensor gradProbs,
                                CpuTensor gradScores) {
        float[] p = probs.data;
        float[] gp = gradProbs.data;
        float[] gs = gradScores.data;
        for (int r = 0; r < rows; r++) {
            int po = probs.offset + r * cols;
            int go = gradProbs.offset + r * cols;
            int so = gradScores.offset + r * cols;
            double dot = 0;
            for (int c = 0; c < cols; c++) {
                dot += (double) p[po + c] * gp[go + c];
            }
            float d = (float) dot;
            for (int c = 0; c < cols; c++) {
                gs[so + c] = scale * p[po + c] * (gp[go + c] - d);
            }
        }
    }
}
