package io.tributary.cli;

import com.typesafe.config.Config;
import io.tributary.kernels.Backend;
import io.tributary.kernels.BackendMode;
import io.tributary.kernels.Backends;
import io.tributary.trainer.gpt.CharCorpus;
import io.tributary.trainer.gpt.GptCheckpoint;
import io.tributary.trainer.gpt.Gpt;
import io.tributary.trainer.gpt.GptSpec;
import io.tributary.trainer.gpt.GptTraining;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;

/** {@code tributary train --local --model gpt}: one process trains the character-level GPT on Moby Dick. */
final class TrainGptCommand {

    private final Config config;
    private final PrintStream out;

    TrainGptCommand(Config config, PrintStream out) {
        this.config = config;
        this.out = out;
    }


    /** tributary.gpt.checkpoint, else runs/gpt-TIME/model.safetensors. */
    private Path checkpointPath() {
        String configured = config.getString("tributary.gpt.checkpoint");
        if (!configured.isEmpty()) {
            return Path.of(configured);
        }
        String time = java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return Path.of("runs", "gpt-" + time, "model.safetensors");
    }

    /** Returns the final validation loss. */
    double run() {
        GptTraining.Settings settings = GptTraining.Settings.from(config);
        int context = config.getInt("tributary.gpt.context");
        CharCorpus corpus = CharCorpus.load(CharCorpus.dataDir(config).resolve("data.txt"), context);
        GptSpec spec = GptSpec.from(config, corpus.vocabularySize());
        BackendMode mode = io.tributary.node.RunSettings.from(config).backend();
        try (Backend backend = Backends.open(mode, line -> out.println("note: " + line))) {
            out.println("backend:   " + backend.description());
            out.println("model:     " + spec);
            out.printf(Locale.ROOT, "data:      %s, %,d characters: %,d train / %,d validate, vocabulary %d%n",
                    corpus.name(), corpus.length(), corpus.trainLength(), corpus.validationLength(),
                    corpus.vocabularySize());
            out.printf(Locale.ROOT, "optimizer: adamw, learning rate %s (warm-up %d, cosine to %s at %d), weight decay %s,"
                            + " clip %s, batch %d x %d, %d steps, seed %d%n",
                    settings.optimizer().learningRate(), settings.optimizer().warmupSteps(),
                    settings.optimizer().minLearningRate(), settings.optimizer().decaySteps(),
                    settings.optimizer().weightDecay(), settings.optimizer().clipNorm(), settings.batch(), context,
                    settings.steps(), settings.seed());
            Gpt model = new Gpt(spec, backend, settings.batch());
            model.initialize(settings.seed());
            GptTraining training = new GptTraining(model, corpus, settings);
            ProgressBar bar = ProgressBar.on(out);
            GptTraining.Result result = training.run(new GptTraining.Listener() {
                private double smoothed = Double.NaN;

                @Override
                public void onStep(int step, int steps, float loss, double tokensPerSecond) {
                    smoothed = Double.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
                    bar.update(String.format(Locale.ROOT, "step %d/%d", step, steps), (double) step / steps,
                            String.format(Locale.ROOT, "%,.0f tokens/s  loss %.4f", tokensPerSecond, smoothed));
                }

                @Override
                public void onValidation(int step, double validationLoss) {
                    bar.finishLine();
                    out.printf(Locale.ROOT, "step %d: validation loss %.4f nats/char%n", step, validationLoss);
                }
            });
            Path checkpoint = checkpointPath();
            float[] params = new float[model.parameterCount()];
            backend.download(model.parameters(), params, 0);
            try {
                GptCheckpoint.write(checkpoint, spec, params, corpus.vocabulary(), result.steps(), result.validationLoss(),
                        training.validationOffsets());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the checkpoint " + checkpoint + ": " + e.getMessage()
                        + " (set tributary.gpt.checkpoint to a writable path)", e);
            }
            out.println("checkpoint: " + checkpoint + " (try: tributary generate --checkpoint " + checkpoint
                    + " --prompt \"Call me\")");
            out.printf(Locale.ROOT, "result: validation loss %.4f nats/char after %d steps, %,.0f tokens/s over %.1f s of"
                    + " training%n", result.validationLoss(), result.steps(), result.tokensPerSecond(),
                    result.trainSeconds());
            return result.validationLoss();
        }
    }
}
