package io.tributary.trainer.model;

import com.typesafe.config.Config;
import java.util.Arrays;
import java.util.List;

/**
 * The shape of a multi-layer perceptron: layer widths from input to classes, and the hidden
 * activation. Read from {@code tributary.model}.
 */
public record ModelSpec(int[] sizes, Activation.Function activation) implements ModelShape {

    public ModelSpec {
        if (sizes.length < 2) {
            throw new IllegalArgumentException("tributary.model.layers needs at least an input and an output width, got "
                    + Arrays.toString(sizes));
        }
        for (int s : sizes) {
            if (s < 1) {
                throw new IllegalArgumentException("tributary.model.layers has a width < 1: " + Arrays.toString(sizes));
            }
        }
        if (sizes[sizes.length - 1] < 2) {
            throw new IllegalArgumentException("tributary.model.layers must end in at least 2 classes, got "
                    + Arrays.toString(sizes));
        }
        sizes = sizes.clone();
    }

    @Override
    public int[] sizes() {
        return sizes.clone();
    }

    public int inputs() {
        return sizes[0];
    }

    public int classes() {
        return sizes[sizes.length - 1];
    }

    @Override
    public int inputsPerSample() {
        return inputs();
    }

    @Override
    public int labelsPerSample() {
        return 1;
    }

    @Override
    public TrainableModel build(io.tributary.kernels.Backend backend, int maxBatch) {
        return new Mlp(this, backend, maxBatch);
    }

    @Override
    public float[] initialParameters(long seed) {
        return Mlp.initialParameters(this, seed);
    }

    @Override
    public int[] decayRanges() {
        return new int[] {0, parameterCount()};
    }

    /** Number of trainable parameters. */
    @Override
    public int parameterCount() {
        long n = 0;
        for (int i = 0; i + 1 < sizes.length; i++) {
            n += (long) sizes[i] * sizes[i + 1] + sizes[i + 1];
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("model has " + n + " parameters, more than one tensor can hold");
        }
        return (int) n;
    }

    public static ModelSpec of(Activation.Function activation, int... sizes) {
        return new ModelSpec(sizes, activation);
    }

    /** Reads {@code tributary.model}. */
    public static ModelSpec from(Config root) {
        Config c = root.getConfig("tributary.model");
        String kind = c.getString("kind");
        if (kind.equals("gpt")) {
            throw new IllegalArgumentException("tributary.model.kind = gpt trains only in one process for now"
                    + " (tributary train --local --model gpt); a cluster trains the mlp");
        }
        if (!kind.equals("mlp")) {
            throw new IllegalArgumentException("tributary.model.kind must be mlp or gpt, got '" + kind + "'");
        }
        List<Integer> layers = c.getIntList("layers");
        return new ModelSpec(layers.stream().mapToInt(Integer::intValue).toArray(),
                Activation.Function.parse(c.getString("activation")));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("MLP ");
        for (int i = 0; i < sizes.length; i++) {
            sb.append(i == 0 ? "" : "-").append(sizes[i]);
        }
        return sb.append(" (").append(activation.name().toLowerCase(java.util.Locale.ROOT)).append(", ")
                .append(parameterCount()).append(" parameters)").toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec m && Arrays.equals(sizes, m.sizes) && activation == m.activation;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sizes) * 31 + activation.hashCode();
    }
}
