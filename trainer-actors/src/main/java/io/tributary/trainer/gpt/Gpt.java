package io.tributary.trainer.gpt;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
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
    private final Rows x0;
    private final Rows xFinal;
    private final Rows lnfOut;
    private final Rows lnfMean;
    private final Rows lnfRstd;
    private final Rows logits;
    private final Rows dLogits;
    private final Rows predictions;
    private final float[] hostPredictions;
    // scratch shared by the blocks
    private final Rows qkv;
    private final Rows yHeads;
    private final Rows dX;
    private final Rows dTmp;
    private final Rows dHidden;
    private final Rows dQkv;
    private final Rows dq;
    private final Rows dk;
    private final Rows dv;
    private final Rows dAtt;
    private final Rows dY;
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
        final Rows xIn;
        final Rows ln1Out;
        final Rows ln1Mean;
        final Rows ln1Rstd;
        final Rows q;
        final Rows k;
        final Rows v;
        final Tensor probs;
        final Tensor[] probsV;
        final Rows att;
        final Rows xMid;
        final Rows ln2Out;
        final Rows ln2Mean;
        final Rows ln2Rstd;
        final Rows fc;
        final Rows gel;

        Block(int[] cursor) {
            ln1W = p(cursor, c);
            ln1B = p(cursor, c);
            attnW = p(cursor, 3 * c * c);
            attnB = p(cursor, 3 * c);
            projW = p(cursor, c * c);
            projB = p(cursor, c);
            ln2W = p(cursor, c);
            ln2B = p(cursor, c);
            fcW = p(cursor, f * c);
            fcB = p(cursor, f);
            fc2W = p(cursor, c * f);
            fc2B = p(cursor, c);
            int[] g = {cursor[1]};
            gLn1W = gp(g, c);
            gLn1B = gp(g, c);
            gAttnW = gp(g, 3 * c * c);
            gAttnB = gp(g, 3 * c);
            gProjW = gp(g, c * c);
            gProjB = gp(g, c);
            gLn2W = gp(g, c);
            gLn2B = gp(g, c);
            gFcW = gp(g, f * c);
            gFcB = gp(g, f);
            gFc2W = gp(g, c * f);
            gFc2B = gp(g, c);
            cursor[1] = g[0];
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
        int[] cursor = {0, 0};
        wte = p(cursor, v * c);
        wpe = p(cursor, t * c);
        int[] g = {0};
        gWte = gp(g, v * c);
        gWpe = gp(g, t * c);
        cursor[1] = g[0];
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
            blocks[l] = new Block(cursor);
        }
        lnfW = p(cursor, c);
        lnfB = p(cursor, c);
        int[] g2 = {cursor[1]};
        gLnfW = gp(g2, c);
        gLnfB = gp(g2, c);
        if (cursor[0] != spec.parameterCount() || g2[0] != spec.parameterCount()) {
            throw new IllegalStateException("GPT layout is off: " + cursor[0] + " of " + spec.parameterCount());
        }
        xFinal = rows(c);
        lnfOut = rows(c);
        lnfMean = rows(1);
        lnfRstd = rows(1);
        logits = rows(v);
        dLogits = rows(v);
        predictions = rows(1);
        hostPredictions = new float[maxBatch * t];
        yV = headViews(yHeads.full);
        dqV = headViews(dq.full);
        dkV = headViews(dk.full);
        dvV = headViews(dv.full);
        dyV = headViews(dY.full);
        this.batch = maxBatch;
    }

    private Tensor p(int[] cursor, int n) {
        Tensor s = params.slice(cursor[0], n);
        cursor[0] += n;
        return s;
    }

    private Tensor gp(int[] cursor, int n) {
        Tensor s = grads.slice(cursor[0], n);
        cursor[0] += n;
        return s;
    }

    private Tensor alloc(int n) {
        Tensor x = backend.allocate(n);
        owned.add(x);
        return x;
    }

    private Rows rows(int rowLength) {
        return new Rows(alloc(maxBatch * t * rowLength), rowLength * t);
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
        Tensor x = x0.at(batch);
        backend.gatherRows(n, c, wte, ids, x);
        backend.addPeriodicRows(n, t, c, wpe, x);
        for (Block b : blocks) {
            x = blockForward(b, x, n);
        }
        backend.copy(x, xFinal.at(batch));
        backend.layerNorm(n, c, LN_EPS, x, lnfW, lnfB, lnfOut.at(batch), lnfMean.at(batch), lnfRstd.at(batch));
        Tensor out = logits.at(batch);
        backend.gemm(false, true, n, v, c, 1f, lnfOut.at(batch), wte, 0f, out);
        return out;
    }

    private Tensor blockForward(Block b, Tensor x, int n) {
        backend.copy(x, b.xIn.at(batch));
        Tensor h = b.ln1Out.at(batch);
        backend.layerNorm(n, c, LN_EPS, x, b.ln1W, b.ln1B, h, b.ln1Mean.at(batch), b.ln1Rstd.at(batch));
        Tensor qkvRows = qkv.at(batch);
        backend.gemm(false, true, n, 3 * c, c, 1f, h, b.attnW, 0f, qkvRows);
        backend.addRowVector(n, 3 * c, b.attnB, qkvRows);
        backend.splitHeads(batch, t, heads, hd, qkvRows, b.q.full, b.k.full, b.v.full);
        int blocksUsed = batch * heads;
        for (int i = 0; i < blocksUsed; i++) {
            backend.gemm(false, true, t, t, hd, 1f, view(b.q.full, i), view(b.k.full, i), 0f, scoresV[i]);
        }
        backend.causalSoftmax(blocksUsed, t, attnScale, scores, b.probs);
        for (int i = 0; i < blocksUsed; i++) {
            backend.gemm(false, false, t, hd, t, 1f, b.probsV[i], view(b.v.full, i), 0f, yV[i]);
        }
        Tensor a = b.att.at(batch);
        backend.mergeHeads(batch, t, heads, hd, yHeads.full, a);
        Tensor mid = b.xMid.at(batch);
        backend.gemm(false, true, n, c, c, 1f, a, b.projW, 0f, mid);
        backend.addRowVector(n, c, b.projB, mid);
        backend.add(mid, x, mid);
        Tensor h2 = b.ln2Out.at(batch);
        backend.layerNorm(n, c, LN_EPS, mid, b.ln2W, b.ln2B, h2, b.ln2Mean.at(batch), b.ln2Rstd.at(batch));
        Tensor fcOut = b.fc.at(batch);
        backend.gemm(false, true, n, f, c, 1f, h2, b.fcW, 0f, fcOut);
        backend.addRowVector(n, f, b.fcB, fcOut);
        Tensor g = b.gel.at(batch);
        backend.gelu(fcOut, g);
        Tensor out = x0.at(batch); // the block's output overwrites the residual stream's buffer
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
        Tensor dl = dLogits.at(batch);
        float loss = backend.softmaxCrossEntropy(n, v, logits.at(batch), targets, dl);
        // tied head: dWte = dLogits^T · lnfOut; dLnfOut = dLogits · Wte
        backend.gemm(true, false, v, c, n, 1f, dl, lnfOut.at(batch), 0f, gWte);
        Tensor dh = dTmp.at(batch);
        backend.gemm(false, false, n, c, v, 1f, dl, wte, 0f, dh);
        Tensor dx = dX.at(batch);
        backend.layerNormBackward(n, c, xFinal.at(batch), lnfMean.at(batch), lnfRstd.at(batch), lnfW, dh, dx, gLnfW,
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
        Tensor g = b.gel.at(batch);
        backend.gemm(true, false, c, f, n, 1f, dx, g, 0f, b.gFc2W);
        backend.columnSums(n, c, dx, b.gFc2B);
        Tensor dg = dHidden.at(batch);
        backend.gemm(false, false, n, f, c, 1f, dx, b.fc2W, 0f, dg);
        backend.geluBackward(b.fc.at(batch), dg, dg);
        Tensor h2 = b.ln2Out.at(batch);
        backend.gemm(true, false, f, c, n, 1f, dg, h2, 0f, b.gFcW);
        backend.columnSums(n, f, dg, b.gFcB);
        Tensor dh2 = dTmp.at(batch);
        backend.gemm(false, false, n, c, f, 1f, dg, b.fcW, 0f, dh2);
        Tensor dln = dAtt.at(batch);
        backend.layerNormBackward(n, c, b.xMid.at(batch), b.ln2Mean.at(batch), b.ln2Rstd.at(batch), b.ln2W, dh2, dln,
                b.gLn2W, b.gLn2B);
        backend.add(dx, dln, dx); // dx is now the gradient at mid
        // attention: mid = xIn + proj(merge(attention(split(qkv(ln1(xIn))))))
        Tensor a = b.att.at(batch);
        backend.gemm(true, false, c, c, n, 1f, dx, a, 0f, b.gProjW);
        backend.columnSums(n, c, dx, b.gProjB);
        Tensor da = dAtt.at(batch);
        backend.gemm(false, false, n, c, c, 1f, dx, b.projW, 0f, da);
        backend.unmergeHeads(batch, t, heads, hd, da, dY.full);
        int blocksUsed = batch * heads;
        for (int i = 0; i < blocksUsed; i++) {
            Tensor dyi = dyV[i];
            backend.gemm(false, true, t, t, hd, 1f, dyi, view(b.v.full, i), 0f, dPV[i]);
            backend.gemm(true, false, t, hd, t, 1f, b.probsV[i], dyi, 0f, dvV[i]);
        }
        backend.softmaxBackward(blocksUsed * t, t, attnScale, b.probs, dP, dS);
        for (int i = 0; i < blocksUsed; i++) {
            backend.gemm(false, false, t, hd, t, 1f, dSV[i], view(b.k.full, i), 0f, dqV[i]);
            backend.gemm(true, false, t, hd, t, 1f, dSV[i], view(b.q.full, i), 0f, dkV[i]);
        }
        Tensor dqkvRows = dQkv.at(batch);
        backend.joinHeads(batch, t, heads, hd, dq.full, dk.full, dv.full, dqkvRows);
        Tensor h = b.ln1Out.at(batch);
        backend.gemm(true, false, 3 * c, c, n, 1f, dqkvRows, h, 0f, b.gAttnW);
        backend.columnSums(n, 3 * c, dqkvRows, b.gAttnB);
        Tensor dh = dTmp.at(batch);
        backend.gemm(false, false, n, c, 3 * c, 1f, dqkvRows, b.attnW, 0f, dh);
        Tensor dln1 = dAtt.at(batch);
        backend.layerNormBackward(n, c, b.xIn.at(batch), b.ln1Mean.at(batch), b.ln1Rstd.at(batch), b.ln1W, dh, dln1,
                b.gLn1W, b.gLn1B);
        backend.add(dx, dln1, dx);
    }

    /** The mean cross-entropy (nats per token) of {@code batch} sequences, without gradients. */
    @Override
    public float loss(Tensor ids, Tensor targets, int batch) {
        forward(ids, batch);
        int n = batch * t;
        return backend.softmaxCrossEntropy(n, v, logits.at(batch), targets, dLogits.at(batch));
    }

    /** Positions of {@code batch} sequences whose highest logit is the next token. */
    @Override
    public int countCorrect(Tensor ids, float[] hostTargets, int targetOffset, int batch) {
        forward(ids, batch);
        int n = batch * t;
        Tensor p = predictions.at(batch);
        backend.argmaxRows(n, v, logits.at(batch), p);
        backend.download(p, hostPredictions, 0);
        int correct = 0;
        for (int i = 0; i < n; i++) {
            if (hostPredictions[i] == hostTargets[targetOffset + i]) {
                correct++;
            }
        }
        return correct;
    }

    /**
     * A buffer for up to {@code maxBatch} sequences with a cached view for the current batch size,
     * so a step reuses views instead of slicing.
     */
    private static final class Rows {
        final Tensor full;
        private final int perSequence;
        private Tensor current;
        private int currentBatch = -1;

        Rows(Tensor full, int perSequence) {
            this.full = full;
            this.perSequence = perSequence;
        }

        Tensor at(int batch) {
            if (batch != currentBatch) {
                current = (long) batch * perSequence == full.length() ? full : full.slice(0, batch * perSequence);
                currentBatch = batch;
            }
            return current;
        }
    }
}
