package io.tributary.trainer.gpt;

import io.tributary.trainer.data.Dataset;
import java.util.SplittableRandom;

/**
 * A {@link CharCorpus} as the data sets a cluster run trains and evaluates on: a sample is one window
 * of {@code context} characters (its features the characters, its labels the next ones). The
 * training set is {@code count} windows at offsets drawn from {@code seed} over the training part,
 * so an epoch of the cluster's work plans is {@code count / batch} steps of the local recipe's
 * random windows; the validation set is the windows {@link GptTraining} validates on.
 */
public final class GptData {

    private GptData() {
    }

    /** {@code count} training windows at offsets drawn from {@code seed}. */
    public static Dataset trainingWindows(CharCorpus corpus, int count, int context, long seed) {
        float[] ids = new float[Math.multiplyExact(count, context)];
        float[] targets = new float[ids.length];
        SplittableRandom random = new SplittableRandom(seed);
        for (int w = 0; w < count; w++) {
            corpus.trainingBatch(random, 1, context, ids, targets, w * context);
        }
        return Dataset.sequences(corpus.name() + " training windows", count, context, corpus.vocabularySize(), ids,
                targets);
    }

    /** The validation windows of {@link GptTraining} for {@code evalWindows} and {@code seed}. */
    public static Dataset validationWindows(CharCorpus corpus, int evalWindows, int context, long seed) {
        int[] offsets = corpus.validationOffsets(evalWindows, context, GptTraining.validationSeed(seed));
        float[] ids = new float[offsets.length * context];
        float[] targets = new float[ids.length];
        for (int i = 0; i < offsets.length; i++) {
            corpus.window(offsets[i], context, ids, targets, i * context);
        }
        return Dataset.sequences(corpus.name() + " validation windows", offsets.length, context,
                corpus.vocabularySize(), ids, targets);
    }
}
