package io.tributary.trainer.gpt;

import com.typesafe.config.Config;
import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import java.util.SplittableRandom;

/**
 * Trains a {@link Gpt} on a {@link CharCorpus} in one process: random training windows, AdamW with
 * the recipe's schedule, and the validation loss (mean cross-entropy in nats per character over
 * fixed random windows of the validation part) every few steps and at the end. The step loop
 * allocates nothing.
 */
public final class GptTraining {

    /** The run's knobs, from {@code tributary.gpt}. */
    public record Settings(int batch, int steps, int evalEvery, int evalWindows, long seed, AdamW.Settings optimizer) {
        public Settings {
            if (batch < 1 || steps < 1 || evalEvery < 1 || evalWindows < 1) {
                throw new IllegalArgumentException("tributary.gpt.batch, steps, eval-every and eval-windows must be"
                        + " >= 1, got " + batch + ", " + steps + ", " + evalEvery + ", " + evalWindows);
            }
        }

        public static Settings from(Config root) {
            Config c = root.getConfig("tributary.gpt");
            return new Settings(c.getInt("batch"), c.getInt("steps"), c.getInt("eval-every"), c.getInt("eval-windows"),
                    c.getLong("seed"), new AdamW.Settings(c.getDouble("learning-rate"), c.getDouble("min-learning-rate"),
                            c.getInt("warmup-steps"), c.getInt("decay-steps"), c.getDouble("beta1"), c.getDouble("beta2"),
                            1e-8, c.getDouble("weight-decay"), c.getDouble("clip-norm")));
        }
    }

    /** Progress callbacks, on the training thread. */
    public interface Listener {
        void onStep(int step, int steps, float loss, double tokensPerSecond);

        void onValidation(int step, double validationLoss);
    }

    /** What the run reached: the last validation loss and the training throughput (tokens/s, steps only). */
    public record Result(int steps, double validationLoss, double tokensPerSecond, double trainSeconds) {
    }

    private final Gpt model;
    private final CharCorpus corpus;
    private final Settings settings;
    private final AdamW optimizer;
    private final Backend backend;
    private final Tensor ids;
    private final Tensor targets;
    private final float[] hostIds;
    private final float[] hostTargets;
    private final int[] validation;

    public GptTraining(Gpt model, CharCorpus corpus, Settings settings) {
        if (corpus.vocabularySize() != model.spec().vocab()) {
            throw new IllegalArgumentException("the model's vocabulary has " + model.spec().vocab() + " tokens but "
                    + corpus.name() + " has " + corpus.vocabularySize() + " characters");
        }
        if (settings.batch() > model.maxBatch()) {
            throw new IllegalArgumentException("batch of " + settings.batch() + " sequences exceeds the model's buffers ("
                    + model.maxBatch() + ")");
        }
        this.model = model;
        this.corpus = corpus;
        this.settings = settings;
        this.backend = model.backend();
        this.optimizer = new AdamW(settings.optimizer(), model);
        int n = model.maxBatch() * model.spec().context();
        this.ids = backend.allocate(n);
        this.targets = backend.allocate(n);
        this.hostIds = new float[n];
        this.hostTargets = new float[n];
        this.validation = corpus.validationOffsets(settings.evalWindows(), model.spec().context(),
                validationSeed(settings.seed()));
    }

    /** Runs every step, validating every {@code eval-every} steps and after the last. */
    public Result run(Listener listener) {
        SplittableRandom random = new SplittableRandom(settings.seed());
        int t = model.spec().context();
        long tokens = 0;
        long trainNanos = 0;
        double lastValidation = Double.NaN;
        for (int step = 1; step <= settings.steps(); step++) {
            long start = System.nanoTime();
            corpus.trainingBatch(random, settings.batch(), t, hostIds, hostTargets);
            backend.upload(hostIds, 0, ids);
            backend.upload(hostTargets, 0, targets);
            float loss = model.computeGradients(ids, targets, settings.batch());
            optimizer.apply(model.parameters(), model.gradients());
            backend.synchronize();
            trainNanos += System.nanoTime() - start;
            tokens += (long) settings.batch() * t;
            listener.onStep(step, settings.steps(), loss, tokens / (trainNanos / 1e9));
            if (step % settings.evalEvery() == 0 || step == settings.steps()) {
                lastValidation = validationLoss();
                listener.onValidation(step, lastValidation);
            }
        }
        return new Result(settings.steps(), lastValidation, tokens / (trainNanos / 1e9), trainNanos / 1e9);
    }

    /** The mean cross-entropy, in nats per character, over the fixed validation windows. */
    public double validationLoss() {
        int t = model.spec().context();
        int perBatch = model.maxBatch();
        double sum = 0;
        for (int from = 0; from < validation.length; from += perBatch) {
            int count = Math.min(perBatch, validation.length - from);
            for (int i = 0; i < count; i++) {
                corpus.window(validation[from + i], t, hostIds, hostTargets, i * t);
            }
            backend.upload(hostIds, 0, ids);
            backend.upload(hostTargets, 0, targets);
            sum += (double) model.loss(ids, targets, count) * count;
        }
        return sum / validation.length;
    }

    /** The seed of the validation windows' offsets for a run's {@code seed}. */
    public static long validationSeed(long seed) {
        return seed + 1;
    }

    /** The validation windows' offsets in the corpus (a copy). */
    public int[] validationOffsets() {
        return validation.clone();
    }

    public AdamW optimizer() {
        return optimizer;
    }
}
