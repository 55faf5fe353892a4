package io.tributary.trainer.gpt;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a GPT-style decoder-only transformer: pre-LayerNorm blocks of causal multi-head
 * self-attention and a 4×-wide GELU MLP, learned positions, biases on, the output head tied to the
 * token embedding. Read from {@code tributary.gpt}.
 *
 * @param vocab     tokens (characters) in the vocabulary
 * @param context   positions a sequence holds (the attention window)
 * @param layers    transformer blocks
 * @param heads     attention heads per block (must divide {@code embedding})
 * @param embedding the width of every position's vector
 */
public record GptSpec(int vocab, int context, int layers, int heads, int embedding)
        implements io.tributary.trainer.model.ModelShape {

    public GptSpec {
        positive("vocab", vocab);
        positive("context", context);
        positive("layers", layers);
        positive("heads", heads);
        positive("embedding", embedding);
        if (embedding % heads != 0) {
            throw new IllegalArgumentException("tributary.gpt.embedding (" + embedding + ") must be a multiple of"
                    + " tributary.gpt.heads (" + heads + "): each head takes an equal part of it");
        }
        if (parameterCountLong(vocab, context, layers, embedding) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a GPT of this shape has more parameters than one tensor holds: shrink"
                    + " tributary.gpt.layers or embedding");
        }
    }

    private static void positive(String key, int value) {
        if (value < 1) {
            throw new IllegalArgumentException("tributary.gpt." + key + " must be >= 1, got " + value);
        }
    }

    /** The width of one head. */
    public int headDim() {
        return embedding / heads;
    }

    /** The width of the MLP's hidden layer (4 × embedding). */
    public int hidden() {
        return 4 * embedding;
    }

    @Override
    public int inputsPerSample() {
        return context;
    }

    @Override
    public int labelsPerSample() {
        return context;
    }

    @Override
    public io.tributary.trainer.model.TrainableModel build(io.tributary.kernels.Backend backend, int maxBatch) {
        return new Gpt(this, backend, maxBatch);
    }

    @Override
    public float[] initialParameters(long seed) {
        return Gpt.initialParameters(this, seed);
    }

    @Override
    public int[] decayRanges() {
        List<Integer> out = new ArrayList<>();
        for (Param p : layout()) {
            if (p.decays()) {
                int n = out.size();
                if (n > 0 && out.get(n - 1) == p.offset()) {
                    out.set(n - 1, p.offset() + p.length()); // adjacent matrices: one range
                } else {
                    out.add(p.offset());
                    out.add(p.offset() + p.length());
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Number of trainable parameters (the head shares the token embedding). */
    @Override
    public int parameterCount() {
        return (int) parameterCountLong(vocab, context, layers, embedding);
    }

    private static long parameterCountLong(int vocab, int context, int layers, int c) {
        long perBlock = 2L * c + 3L * c * c + 3L * c + (long) c * c + c + 2L * c + 4L * c * c + 4L * c + 4L * c * c + c;
        return (long) vocab * c + (long) context * c + layers * perBlock + 2L * c;
    }

    /** One named parameter tensor of the flat vector, as a PyTorch module of this architecture names it. */
    public record Param(String name, int offset, int[] shape, boolean decays) {
        public int length() {
            int n = 1;
            for (int s : shape) {
                n *= s;
            }
            return n;
        }
    }

    /**
     * The flat parameter vector's layout, in order: names and shapes of a plain PyTorch module for
     * this architecture (Linear weights {@code [out, in]}). Matrices decay under AdamW; biases and
     * LayerNorm parameters do not.
     */
    public List<Param> layout() {
        List<Param> out = new ArrayList<>();
        int c = embedding;
        int[] off = {0};
        add(out, off, "transformer.wte.weight", true, vocab, c);
        add(out, off, "transformer.wpe.weight", true, context, c);
        for (int l = 0; l < layers; l++) {
            String p = "transformer.h." + l + ".";
            add(out, off, p + "ln_1.weight", false, c);
            add(out, off, p + "ln_1.bias", false, c);
            add(out, off, p + "attn.c_attn.weight", true, 3 * c, c);
            add(out, off, p + "attn.c_attn.bias", false, 3 * c);
            add(out, off, p + "attn.c_proj.weight", true, c, c);
            add(out, off, p + "attn.c_proj.bias", false, c);
            add(out, off, p + "ln_2.weight", false, c);
            add(out, off, p + "ln_2.bias", false, c);
            add(out, off, p + "mlp.c_fc.weight", true, 4 * c, c);
            add(out, off, p + "mlp.c_fc.bias", false, 4 * c);
            add(out, off, p + "mlp.c_proj.weight", true, c, 4 * c);
            add(out, off, p + "mlp.c_proj.bias", false, c);
        }
        add(out, off, "transformer.ln_f.weight", false, c);
        add(out, off, "transformer.ln_f.bias", false, c);
        return out;
    }

    private static void add(List<Param> out, int[] off, String name, boolean decays, int... shape) {
        Param p = new Param(name, off[0], shape, decays);
        out.add(p);
        off[0] += p.length();
    }

    /** Reads {@code tributary.gpt}; the vocabulary comes from the data, not the config. */
    public static GptSpec from(Config root, int vocab) {
        Config c = root.getConfig("tributary.gpt");
        return new GptSpec(vocab, c.getInt("context"), c.getInt("layers"), c.getInt("heads"), c.getInt("embedding"));
    }

    @Override
    public String toString() {
        return "GPT " + layers + " layers × " + heads + " heads, " + embedding + " dims, context " + context + ", vocab "
                + vocab + " (" + parameterCount() + " parameters)";
    }
}
