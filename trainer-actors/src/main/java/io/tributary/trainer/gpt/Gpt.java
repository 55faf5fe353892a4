package io.tributary.trainer.gpt;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.trainer.model.BatchViews;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A GPT-style transformer ({@link GptSpec}) on a {@link Backend}: forward, cross-entropy over every
 * position, and backward into one flat gradient vector laid out as {@link GptSpec#layout()} (so a
 * trainer ships it as is and parameter shards cut it by offset, as for the MLP).
 *
 * <p>Every buffer is allocated once, for up to {@code maxBatch} sequences of {@code context}
 * tokens; attention runs as one GEMM per (sequence, head) on views made at construction, so a step
 * allocates nothing (views for a batch size other than the last one used are made once per change).
 * Sequences are always {@code context} long.
 */
public final class Gpt implements io.tributary.trainer.model.TrainableModel {

    /** LayerNorm's epsilon, as PyTorch's default. */
    static final float LN_EPS = 1e-5f;

    private final GptSpec spec;
    private final Backend backend;
    private final int maxBatch;
    private final int t;
    private final int c;
    private final int f;
    private final int v;
    private final int heads;
    private final int hd;
    private final float attnScale;
    private final List<Tensor> owned = new ArrayList<>();
    /** The flat vector's tensors by name. */
    private final java.util.Map<String, GptSpec.Param> named = new java.util.HashMap<>();

    private final Tensor params;
    private final Tensor grads;
    private final Tensor wte;
    private final Tensor wpe;
    private final Tensor gWte;
    private final Tensor gWpe;
    private final Block[] blocks;
    private final Tensor lnfW;
    private final Tensor lnfB;
    private final Tensor gLnfW;
    private final Tensor gLnfB;

    // activations (rows = batch · context)
    private final BatchViews x0;
    private final BatchViews xFinal;
    private final BatchViews lnfOut;
    private final BatchViews lnfMean;
    private final BatchViews lnfRstd;
    private final BatchViews logits;
    private final BatchViews dLogits;
    private final BatchViews predictions;
    private final float[] hostPredictions;
    // scratch shared by the blocks
    private final BatchViews qkv;
    private final BatchViews yHeads;
    private final BatchViews dX;
    private final BatchViews dTmp;
    private final BatchViews dHidden;
    private final BatchViews dQkv;
    private final BatchViews dq;
    private final BatchViews dk;
    private final BatchViews dv;
    private final BatchViews dAtt;
    private final BatchViews dY;
    private final Tensor scores;
    private final Tensor dP;
    private final Tensor dS;
    /** Per (sequence, head) views of a [batch][head][time][headDim] buffer and of a [batch][head][time][time] one. */
    private final Tensor[] yV;
    private final Tensor[] dqV;
    private final Tensor[] dkV;
    private final Tensor[] dvV;
    private final Tensor[] dyV;
    private final Tensor[] scoresV;
    private final Tensor[] dPV;
    private final Tensor[] dSV;
    private int batch;

    /** The tensors and saved activations of one transformer block. */
    private final class Block {
        final Tensor ln1W;
        final Tensor ln1B;
        final Tensor attnW;
        final Tensor attnB;
        final Tensor projW;
        final Tensor projB;
        final Tensor ln2W;
        final Tensor ln2B;
        final Tensor fcW;
        final Tensor fcB;
        final Tensor fc2W;
        final Tensor fc2B;
        final Tensor gLn1W;
        final Tensor gLn1B;
        final Tensor gAttnW;
        final Tensor gAttnB;
        final Tensor gProjW;
        final Tensor gProjB;
        final Tensor gLn2W;
        final Tensor gLn2B;
        final Tensor gFcW;
        final Tensor gFcB;
        final Tensor gFc2W;
        final Tensor gFc2B;
        final BatchViews xIn;
        final BatchViews ln1Out;
        final BatchViews ln1Mean;
        final BatchViews ln1Rstd;
        final BatchViews q;
        final BatchViews k;
        final BatchViews v;
        final Tensor probs;
        final Tensor[] probsV;
        final BatchViews att;
        final BatchViews xMid;
        final BatchViews ln2Out;
        final BatchViews ln2Mean;
        final BatchViews ln2Rstd;
        final BatchViews fc;
        final BatchViews gel;

        Block(int layer) {
            String at = "transformer.h." + layer + ".";
            ln1W = param(at + "ln_1.weight");
            ln1B = param(at + "ln_1.bias");
            attnW = param(at + "attn.c_attn.weight");
            attnB = param(at + "attn.c_attn.bias");
            projW = param(at + "attn.c_proj.weight");
            projB = param(at + "attn.c_proj.bias");
            ln2W = param(at + "ln_2.weight");
            ln2B = param(at + "ln_2.bias");
            fcW = param(at + "mlp.c_fc.weight");
            fcB = param(at + "mlp.c_fc.bias");
            fc2W = param(at + "mlp.c_proj.weight");
            fc2B = param(at + "mlp.c_proj.bias");
            gLn1W = grad(at + "ln_1.weight");
            gLn1B = grad(at + "ln_1.bias");
            gAttnW = grad(at + "attn.c_attn.weight");
            gAttnB = grad(at + "attn.c_attn.bias");
            gProjW = grad(at + "attn.c_proj.weight");
            gProjB = grad(at + "attn.c_proj.bias");
            gLn2W = grad(at + "ln_2.weight");
            gLn2B = grad(at + "ln_2.bias");
            gFcW = grad(at + "mlp.c_fc.weight");
            gFcB = grad(at + "mlp.c_fc.bias");
            gFc2W = grad(at + "mlp.c_proj.weight");
            gFc2B = grad(at + "mlp.c_proj.bias");
            xIn = rows(c);
            ln1Out = rows(c);
            ln1Mean = rows(1);
            ln1Rstd = rows(1);
            q = rows(c);
            k = rows(c);
            v = rows(c);
            probs = alloc(maxBatch * heads * t * t);
            probsV = squareViews(probs);
            att = rows(c);
            xMid = rows(c);
            ln2Out = rows(c);
            ln2Mean = rows(1);
            ln2Rstd = rows(1);
            fc = rows(f);
            gel = rows(f);
        }
    }

    public Gpt(GptSpec spec, Backend backend, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1 sequence, got " + maxBatch);
        }
        this.spec = spec;
        this.backend = backend;
        this.maxBatch = maxBatch;
        this.t = spec.context();
        this.c = spec.embedding();
        this.f = spec.hidden();
        this.v = spec.vocab();
        this.heads = spec.heads();
        this.hd = spec.headDim();
        this.attnScale = (float) (1.0 / Math.sqrt(hd));
        this.params = backend.allocate(spec.parameterCount());
        this.grads = backend.allocate(spec.parameterCount());
        for (GptSpec.Param q : spec.layout()) {
            named.put(q.name(), q);
        }
        wte = param("transformer.wte.weight");
        wpe = param("transformer.wpe.weight");
        gWte = grad("transformer.wte.weight");
        gWpe = grad("transformer.wpe.weight");
        x0 = rows(c);
        qkv = rows(3 * c);
        yHeads = rows(c);
        dX = rows(c);
        dTmp = rows(c);
        dHidden = rows(f);
        dQkv = rows(3 * c);
        dq = rows(c);
        dk = rows(c);
        dv = rows(c);
        dAtt = rows(c);
        dY = rows(c);
        scores = alloc(maxBatch * heads * t * t);
        dP = alloc(maxBatch * heads * t * t);
        dS = alloc(maxBatch * heads * t * t);
        scoresV = squareViews(scores);
        dPV = squareViews(dP);
        dSV = squareViews(dS);
        blocks = new Block[spec.layers()];
        for (int l = 0; l < blocks.length; l++) {
            blocks[l] = new Block(l);
        }
        lnfW = param("transformer.ln_f.weight");
        lnfB = param("transformer.ln_f.bias");
        gLnfW = grad("transformer.ln_f.weight");
        gLnfB = grad("transformer.ln_f.bias");
        xFinal = rows(c);
        lnfOut = rows(c);
        lnfMean = rows(1);
        lnfRstd = rows(1);
        logits = rows(v);
        dLogits = rows(v);
        predictions = rows(1);
        hostPredictions = new float[maxBatch * t];
        yV = headViews(yHeads.full());
        dqV = headViews(dq.full());
        dkV = headViews(dk.full());
        dvV = headViews(dv.full());
        dyV = headViews(dY.full());
        this.batch = maxBatch;
    }

    /** The view of the parameter tensor {@code name} ({@link GptSpec#layout()}) in the flat vector. */
    private Tensor param(String name) {
        GptSpec.Param q = named.get(name);
        return params.slice(q.offset(), q.length());
    }

    /** The view of {@code name}'s gradient: the gradient vector has the parameters' layout. */
    private Tensor grad(String name) {
        GptSpec.Param q = named.get(name);
        return grads.slice(q.offset(), q.length());
    }

    private Tensor alloc(int n) {
        Tensor x = backend.allocate(n);
        owned.add(x);
        return x;
    }

    /** A buffer of {@code rowLength} floats per position for up to {@code maxBatch} sequences. */
    private BatchViews rows(int rowLength) {
        return new BatchViews(alloc(maxBatch * t * rowLength), rowLength * t, maxBatch);
    }

    private Tensor[] squareViews(Tensor full) {
        Tensor[] out = new Tensor[maxBatch * heads];
        for (int i = 0; i < out.length; i++) {
            out[i] = full.slice(i * t * t, t * t);
        }
        return out;
    }

    private Tensor[] headViews(Tensor full) {
        Tensor[] out = new Tensor[maxBatch * heads];
        for (int i = 0; i < out.length; i++) {
            out[i] = full.slice(i * t * hd, t * hd);
        }
        return out;
    }

    public GptSpec spec() {
        return spec;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public int parameterCount() {
        return params.length();
    }

    /** The flat parameter vector (on the backend), laid out as {@link GptSpec#layout()}. */
    @Override
    public Tensor parameters() {
        return params;
    }

    /** The flat gradient vector {@link #computeGradients} writes. */
    @Override
    public Tensor gradients() {
        return grads;
    }

    /** Gives every tensor back to the backend; the model is unusable afterwards. */
    @Override
    public void free() {
        for (Tensor x : owned) {
            backend.free(x);
        }
        owned.clear();
        backend.free(params);
        backend.free(grads);
    }

    /** Fresh parameters from {@code seed}: matrices N(0, 0.02), biases 0, LayerNorm weights 1. */
    public void initialize(long seed) {
        backend.upload(initialParameters(spec, seed), 0, params);
    }

    /** The initial flat parameter vector for {@code spec} and {@code seed}, computed on the host. */
    public static float[] initialParameters(GptSpec spec, long seed) {
        float[] host = new float[spec.parameterCount()];
        SplittableRandom random = new SplittableRandom(seed);
        for (GptSpec.Param p : spec.layout()) {
            if (p.shape().length == 2) {
                for (int i = 0; i < p.length(); i++) {
                    host[p.offset() + i] = (float) (0.02 * random.nextGaussian());
                }
            } else if (p.name().endsWith("ln_1.weight") || p.name().endsWith("ln_2.weight")
                    || p.name().endsWith("ln_f.weight")) {
                java.util.Arrays.fill(host, p.offset(), p.offset() + p.length(), 1f);
            }
        }
        return host;
    }

    private void setBatch(int b) {
        if (b < 1 || b > maxBatch) {
            throw new IllegalArgumentException("batch of " + b + " sequences, but buffers hold 1.." + maxBatch);
        }
        batch = b;
    }

    /**
     * The forward pass over {@code batch} sequences of token ids ({@code batch · context} floats);
     * returns the logits ({@code batch · context} rows of {@code vocab}), valid until the next call.
     */
    public Tensor forward(Tensor ids, int batch) {
        setBatch(batch);
        int n = batch * t;
        Tensor x = x0.rows(batch);
        backend.gatherRows(n, c, wte, ids, x);
        backend.addPeriodicRows(n, t, c, wpe, x);
        for (Block b : blocks) {
            x = blockForward(b, x, n);
        }
        backend.copy(x, xFinal.rows(batch));
        backend.layerNorm(n, c, LN_EPS, x, lnfW, lnfB, lnfOut.rows(batch), lnfMean.rows(batch), lnfRstd.rows(batch));
        Tensor out = logits.rows(batch);
        backend.gemm(false, true, n, v, c, 1f, lnfOut.rows(batch), wte, 0f, out);
        return out;
    }

    private Tensor blockForward(Block b, Tensor x, int n) {
        backend.copy(x, b.xIn.rows(batch));
        Tensor h = b.ln1Out.rows(batch);
        backend.layerNorm(n, c, LN_EPS, x, b.ln1W, b.ln1B, h, b.ln1Mean.rows(batch), b.ln1Rstd.rows(batch));
        Tensor qkvRows = qkv.rows(batch);
        backend.gemm(false, true, n, 3 * c, c, 1f, h, b.attnW, 0f, qkvRows);
        backend.addRowVector(n, 3 * c, b.attnB, qkvRows);
        backend.splitHeads(batch, t, heads, hd, qkvRows, b.q.full(), b.k.full(), b.v.full());
        int blocksUsed = batch * heads;
        for (int i = 0; i < blocksUsed; i++) {
            backend.gemm(false, true, t, t, hd, 1f, view(b.q.full(), i), view(b.k.full(), i), 0f, scoresV[i]);
        }
        backend.causalSoftmax(blocksUsed, t, attnScale, scores, b.probs);
        for (int i = 0; i < blocksUsed; i++) {
            backend.gemm(false, false, t, hd, t, 1f, b.probsV[i], view(b.v.full(), i), 0f, yV[i]);
        }
        Tensor a = b.att.rows(batch);
        backend.mergeHeads(batch, t, heads, hd, yHeads.full(), a);
        Tensor mid = b.xMid.rows(batch);
        backend.gemm(false, true, n, c, c, 1f, a, b.projW, 0f, mid);
        backend.addRowVector(n, c, b.projB, mid);
        backend.add(mid, x, mid);
        Tensor h2 = b.ln2Out.rows(batch);
        backend.layerNorm(n, c, LN_EPS, mid, b.ln2W, b.ln2B, h2, b.ln2Mean.rows(batch), b.ln2Rstd.rows(batch));
        Tensor fcOut = b.fc.rows(batch);
        backend.gemm(false, true, n, f, c, 1f, h2, b.fcW, 0f, fcOut);
        backend.addRowVector(n, f, b.fcB, fcOut);
        Tensor g = b.gel.rows(batch);
        backend.gelu(fcOut, g);
        Tensor out = x0.rows(batch); // the block's output overwrites the residual stream's buffer
        backend.gemm(false, true, n, c, f, 1f, g, b.fc2W, 0f, out);
        backend.addRowVector(n, c, b.fc2B, out);
        backend.add(out, mid, out);
        return out;
    }

    /** Views of the per-head buffers of the blocks' q, k and v: made on first use, then looked up. */
    private final java.util.IdentityHashMap<Tensor, Tensor[]> headViewCache = new java.util.IdentityHashMap<>();

    private Tensor view(Tensor full, int i) {
        Tensor[] views = headViewCache.get(full);
        if (views == null) {
            views = headViews(full);
            headViewCache.put(full, views);
        }
        return views[i];
    }

    /**
     * Forward, mean cross-entropy over every position of {@code batch} sequences, and backward:
     * fills {@link #gradients()} (overwriting) and returns the loss in nats per token.
     * {@code targets} holds the next token of each position, as floats.
     */
    @Override
    public float computeGradients(Tensor ids, Tensor targets, int batch) {
        forward(ids, batch);
        int n = batch * t;
        Tensor dl = dLogits.rows(batch);
        float loss = backend.softmaxCrossEntropy(n, v, logits.rows(batch), targets, dl);
        // tied head: dWte = dLogits^T · lnfOut; dLnfOut = dLogits · Wte
        backend.gemm(true, false, v, c, n, 1f, dl, lnfOut.rows(batch), 0f, gWte);
        Tensor dh = dTmp.rows(batch);
        backend.gemm(false, false, n, c, v, 1f, dl, wte, 0f, dh);
        Tensor dx = dX.rows(batch);
        backend.layerNormBackward(n, c, xFinal.rows(batch), lnfMean.rows(batch), lnfRstd.rows(batch), lnfW, dh, dx, gLnfW,
                gLnfB);
        for (int l = blocks.length - 1; l >= 0; l--) {
            blockBackward(blocks[l], dx, n);
        }
        backend.sumPeriodicRows(n, t, c, dx, gWpe);
        backend.scatterAddRows(n, c, dx, ids, gWte);
        return loss;
    }

    /** {@code dx} holds the gradient at the block's output and receives the gradient at its input. */
    private void blockBackward(Block b, Tensor dx, int n) {
        // MLP: out = mid + fc2(gelu(fc(ln2(mid))))
        Tensor g = b.gel.rows(batch);
        backend.gemm(true, false, c, f, n, 1f, dx, g, 0f, b.gFc2W);
        backend.columnSums(n, c, dx, b.gFc2B);
        Tensor dg = dHidden.rows(batch);
        backend.gemm(false, false, n, f, c, 1f, dx, b.fc2W, 0f, dg);
        backend.geluBackward(b.fc.rows(batch), dg, dg);
        Tensor h2 = b.ln2Out.rows(batch);
        backend.gemm(true, false, f, c, n, 1f, dg, h2, 0f, b.gFcW);
        backend.columnSums(n, f, dg, b.gFcB);
        Tensor dh2 = dTmp.rows(batch);
        backend.gemm(false, false, n, c, f, 1f, dg, b.fcW, 0f, dh2);
        Tensor dln = dAtt.rows(batch);
        backend.layerNormBackward(n, c, b.xMid.rows(batch), b.ln2Mean.rows(batch), b.ln2Rstd.rows(batch), b.ln2W, dh2, dln,
                b.gLn2W, b.gLn2B);
        backend.add(dx, dln, dx); // dx is now the gradient at mid
        // attention: mid = xIn + proj(merge(attention(split(qkv(ln1(xIn))))))
        Tensor a = b.att.rows(batch);
        backend.gemm(true, false, c, c, n, 1f, dx, a, 0f, b.gProjW);
        backend.columnSums(n, c, dx, b.gProjB);
        Tensor da = dAtt.rows(batch);
        backend.gemm(false, false, n, c, c, 1f, dx, b.projW, 0f, da);
        backend.unmergeHeads(batch, t, heads, hd, da, dY.full());
        int blocksUsed = batch * heads;
        for (int i = 0; i < blocksUsed; i++) {
            Tensor dyi = dyV[i];
            backend.gemm(false, true, t, t, hd, 1f, dyi, view(b.v.full(), i), 0f, dPV[i]);
            backend.gemm(true, false, t, hd, t, 1f, b.probsV[i], dyi, 0f, dvV[i]);
        }
        backend.softmaxBackward(blocksUsed * t, t, attnScale, b.probs, dP, dS);
        for (int i = 0; i < blocksUsed; i++) {
            backend.gemm(false, false, t, hd, t, 1f, dSV[i], view(b.k.full(), i), 0f, dqV[i]);
            backend.gemm(true, false, t, hd, t, 1f, dSV[i], view(b.q.full(), i), 0f, dkV[i]);
        }
        Tensor dqkvRows = dQkv.rows(batch);
        backend.joinHeads(batch, t, heads, hd, dq.full(), dk.full(), dv.full(), dqkvRows);
        Tensor h = b.ln1Out.rows(batch);
        backend.gemm(true, false, 3 * c, c, n, 1f, dqkvRows, h, 0f, b.gAttnW);
        backend.columnSums(n, 3 * c, dqkvRows, b.gAttnB);
        Tensor dh = dTmp.rows(batch);
        backend.gemm(false, false, n, c, 3 * c, 1f, dqkvRows, b.attnW, 0f, dh);
        Tensor dln1 = dAtt.rows(batch);
        backend.layerNormBackward(n, c, b.xIn.rows(batch), b.ln1Mean.rows(batch), b.ln1Rstd.rows(batch), b.ln1W, dh, dln1,
                b.gLn1W, b.gLn1B);
        backend.add(dx, dln1, dx);
    }

    /** The mean cross-entropy (nats per token) of {@code batch} sequences, without gradients. */
    @Override
    public float loss(Tensor ids, Tensor targets, int batch) {
        forward(ids, batch);
        int n = batch * t;
        return backend.softmaxCrossEntropy(n, v, logits.rows(batch), targets, dLogits.rows(batch));
    }

    /** Positions of {@code batch} sequences whose highest logit is the next token. */
    @Override
    public int countCorrect(Tensor ids, float[] hostTargets, int targetOffset, int batch) {
        forward(ids, batch);
        int n = batch * t;
        Tensor p = predictions.rows(batch);
        backend.argmaxRows(n, v, logits.rows(batch), p);
        backend.download(p, hostPredictions, 0);
        int correct = 0;
        for (int i = 0; i < n; i++) {
            if (hostPredictions[i] == hostTargets[targetOffset + i]) {
                correct++;
            }
        }
        return correct;
    }
}
