package io.tributary.trainer.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The whole GPT against a float64 reference written here from the architecture's definition
 * (pre-LayerNorm blocks, causal attention, exact GELU, tied head, mean cross-entropy over every
 * position), reading parameters by the names of {@link GptSpec#layout()}: the loss must match, and
 * every parameter's gradient must match central finite differences of the reference loss.
 */
class GptGradientCheckTest {

    private static final GptSpec TINY = new GptSpec(7, 5, 2, 2, 8);
    private static final int BATCH = 3;

    /** The reference model: loss of {@code ids}/{@code targets} under flat parameters {@code p}. */
    static double referenceLoss(GptSpec s, double[] p, int[] ids, int[] targets, int batch) {
        java.util.Map<String, Integer> at = new java.util.HashMap<>();
        for (GptSpec.Param q : s.layout()) {
            at.put(q.name(), q.offset());
        }
        int t = s.context();
        int c = s.embedding();
        int h = s.heads();
        int hd = c / h;
        double total = 0;
        for (int b = 0; b < batch; b++) {
            double[][] x = new double[t][c];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < c; j++) {
                    x[i][j] = p[at.get("transformer.wte.weight") + ids[b * t + i] * c + j]
                            + p[at.get("transformer.wpe.weight") + i * c + j];
                }
            }
            for (int l = 0; l < s.layers(); l++) {
                String pre = "transformer.h." + l + ".";
                double[][] a = ln(x, p, at.get(pre + "ln_1.weight"), at.get(pre + "ln_1.bias"));
                double[][] qkv = linear(a, p, at.get(pre + "attn.c_attn.weight"), at.get(pre + "attn.c_attn.bias"), 3 * c);
                double[][] y = new double[t][c];
                for (int head = 0; head < h; head++) {
                    for (int i = 0; i < t; i++) {
                        double[] w = new double[i + 1];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j <= i; j++) {
                            double dot = 0;
                            for (int d = 0; d < hd; d++) {
                                dot += qkv[i][head * hd + d] * qkv[j][c + head * hd + d];
                            }
                            w[j] = dot / Math.sqrt(hd);
                            max = Math.max(max, w[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j <= i; j++) {
                            w[j] = Math.exp(w[j] - max);
                            sum += w[j];
                        }
                        for (int j = 0; j <= i; j++) {
                            for (int d = 0; d < hd; d++) {
                                y[i][head * hd + d] += w[j] / sum * qkv[j][2 * c + head * hd + d];
                            }
                        }
                    }
                }
                double[][] o = linear(y, p, at.get(pre + "attn.c_proj.weight"), at.get(pre + "attn.c_proj.bias"), c);
                add(x, o);
                double[][] m = ln(x, p, at.get(pre + "ln_2.weight"), at.get(pre + "ln_2.bias"));
                double[][] fc = linear(m, p, at.get(pre + "mlp.c_fc.weight"), at.get(pre + "mlp.c_fc.bias"), 4 * c);
                for (double[] row : fc) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = row[j] * 0.5 * (1 + erf(row[j] / Math.sqrt(2)));
                    }
                }
                add(x, linear(fc, p, at.get(pre + "mlp.c_proj.weight"), at.get(pre + "mlp.c_proj.bias"), c));
            }
            double[][] f = ln(x, p, at.get("transformer.ln_f.weight"), at.get("transformer.ln_f.bias"));
            int wte = at.get("transformer.wte.weight");
            for (int i = 0; i < t; i++) {
                double[] logits = new double[s.vocab()];
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < s.vocab(); k++) {
                    for (int j = 0; j < c; j++) {
                        logits[k] += f[i][j] * p[wte + k * c + j];
                    }
                    max = Math.max(max, logits[k]);
                }
                double sum = 0;
                for (double lg : logits) {
                    sum += Math.exp(lg - max);
                }
                total += Math.log(sum) + max - logits[targets[b * t + i]];
            }
        }
        return total / (batch * t);
    }

    private static double[][] ln(double[][] x, double[] p, int w, int b) {
        int c = x[0].length;
        double[][] out = new double[x.length][c];
        for (int i = 0; i < x.length; i++) {
            double mu = 0;
            for (double v : x[i]) {
                mu += v;
            }
            mu /= c;
            double var = 0;
            for (double v : x[i]) {
                var += (v - mu) * (v - mu);
            }
            var /= c;
            for (int j = 0; j < c; j++) {
                out[i][j] = (x[i][j] - mu) / Math.sqrt(var + 1e-5) * p[w + j] + p[b + j];
            }
        }
        return out;
    }

    /** {@code x W^T + b} with W stored [out, in]. */
    private static double[][] linear(double[][] x, double[] p, int w, int b, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = p[b + o];
                for (int k = 0; k < in; k++) {
                    s += x[i][k] * p[w + o * in + k];
                }
                y[i][o] = s;
            }
        }
        return y;
    }

    private static void add(double[][] x, double[][] y) {
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] += y[i][j];
            }
        }
    }

    private static double erf(double x) {
        double sum = 0;
        double term = x;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    @Test
    void lossAndEveryParametersGradientMatchTheFloat64Reference() {
        SplittableRandom random = new SplittableRandom(7);
        int n = BATCH * TINY.context();
        int[] ids = new int[n];
        int[] targets = new int[n];
        float[] idsF = new float[n];
        float[] targetsF = new float[n];
        for (int i = 0; i < n; i++) {
            ids[i] = random.nextInt(TINY.vocab());
            targets[i] = random.nextInt(TINY.vocab());
            idsF[i] = ids[i];
            targetsF[i] = targets[i];
        }
        // larger than the N(0, 0.02) start so that every path carries a visible gradient
        float[] init = new float[TINY.parameterCount()];
        double[] p = new double[init.length];
        for (int i = 0; i < init.length; i++) {
            init[i] = (float) (0.3 * random.nextGaussian());
            p[i] = init[i];
        }
        try (Backend backend = CpuBackend.create()) {
            Gpt model = new Gpt(TINY, backend, BATCH + 1);
            backend.upload(init, 0, model.parameters());
            Tensor idT = backend.allocate(n);
            Tensor tgT = backend.allocate(n);
            backend.upload(idsF, 0, idT);
            backend.upload(targetsF, 0, tgT);
            float loss = model.computeGradients(idT, tgT, BATCH);
            double want = referenceLoss(TINY, p, ids, targets, BATCH);
            assertEquals(want, loss, 1e-5 * Math.max(1, want), "loss");
            float[] grad = new float[init.length];
            backend.download(model.gradients(), grad, 0);

            double eps = 1e-5;
            double maxAbs = 0;
            double[] numeric = new double[p.length];
            for (int i = 0; i < p.length; i++) {
                double keep = p[i];
                p[i] = keep + eps;
                double up = referenceLoss(TINY, p, ids, targets, BATCH);
                p[i] = keep - eps;
                double down = referenceLoss(TINY, p, ids, targets, BATCH);
                p[i] = keep;
                numeric[i] = (up - down) / (2 * eps);
                maxAbs = Math.max(maxAbs, Math.abs(numeric[i]));
            }
            List<GptSpec.Param> layout = TINY.layout();
            for (GptSpec.Param q : layout) {
                double norm = 0;
                for (int i = q.offset(); i < q.offset() + q.length(); i++) {
                    norm = Math.max(norm, Math.abs(numeric[i]));
                    double err = Math.abs(numeric[i] - grad[i]);
                    if (!(err <= 2e-3 * maxAbs + 1e-4 * Math.abs(numeric[i]))) {
                        fail(q.name() + "[" + (i - q.offset()) + "]: finite differences give " + numeric[i]
                                + ", the model " + grad[i]);
                    }
                }
                assertTrue(norm > 1e-4 * maxAbs, q.name() + " carries a gradient (else this check proves nothing)");
            }
            model.free();
        }
    }

    @Test
    void aShorterBatchUsesOnlyItsSequences() {
        SplittableRandom random = new SplittableRandom(11);
        int n = BATCH * TINY.context();
        float[] ids = new float[n];
        float[] targets = new float[n];
        int[] idsI = new int[n];
        int[] tgI = new int[n];
        for (int i = 0; i < n; i++) {
            idsI[i] = random.nextInt(TINY.vocab());
            tgI[i] = random.nextInt(TINY.vocab());
            ids[i] = idsI[i];
            targets[i] = tgI[i];
        }
        float[] init = Gpt.initialParameters(TINY, 3);
        double[] p = new double[init.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = init[i];
        }
        try (Backend backend = CpuBackend.create()) {
            Gpt model = new Gpt(TINY, backend, BATCH);
            model.initialize(3);
            Tensor idT = backend.allocate(n);
            Tensor tgT = backend.allocate(n);
            backend.upload(ids, 0, idT);
            backend.upload(targets, 0, tgT);
            float full = model.loss(idT, tgT, BATCH);
            float one = model.loss(idT, tgT, 1);
            assertEquals(referenceLoss(TINY, p, idsI, tgI, BATCH), full, 1e-5);
            assertEquals(referenceLoss(TINY, p, idsI, tgI, 1), one, 1e-5);
            // at N(0, 0.02) the start is near uniform: loss near ln(vocab)
            assertEquals(Math.log(TINY.vocab()), full, 0.05);
            model.free();
        }
    }
}
