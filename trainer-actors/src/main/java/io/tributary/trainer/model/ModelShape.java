package io.tributary.trainer.model;

import io.tributary.kernels.Backend;

/**
 * What every node needs to know of the model a run trains, whatever its kind: how many parameters,
 * how wide a sample's inputs and labels are, how to build it on a backend, and its initial
 * parameters (the same on every node for one seed, so nothing ships them).
 */
public interface ModelShape {

    int parameterCount();

    /** Floats of input per sample: MLP features, or GPT context positions (token ids). */
    int inputsPerSample();

    /** Floats of labels per sample: 1 class for the MLP, the next token of every position for the GPT. */
    int labelsPerSample();

    /** A model of this shape on {@code backend} for up to {@code maxBatch} samples. */
    TrainableModel build(Backend backend, int maxBatch);

    /** The initial flat parameter vector for {@code seed}. */
    float[] initialParameters(long seed);

    /**
     * The {@code [from, to)} ranges of the flat vector that decoupled weight decay applies to (AdamW):
     * every parameter for the MLP, the matrices only for the GPT. Pairs, in order.
     */
    int[] decayRanges();
}
