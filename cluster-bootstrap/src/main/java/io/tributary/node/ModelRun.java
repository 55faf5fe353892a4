package io.tributary.node;

import com.typesafe.config.Config;
import io.tributary.coordinator.RunRecorder;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.ps.optim.Schedule;
import io.tributary.ps.shard.ShardSettings;
import io.tributary.trainer.data.DataSettings;
import io.tributary.trainer.data.DataSets;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.gpt.CharCorpus;
import io.tributary.trainer.gpt.GptCheckpoint;
import io.tributary.trainer.gpt.GptData;
import io.tributary.trainer.gpt.GptSpec;
import io.tributary.trainer.gpt.GptTraining;
import io.tributary.trainer.local.TrainSettings;
import io.tributary.trainer.model.ModelShape;
import io.tributary.trainer.model.ModelSpec;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * What a cluster run trains, by {@code tributary.model.kind}: the model's shape, its data, the global
 * batch and epochs, the optimizer the shards apply, and how checkpoints are written.
 *
 * <ul>
 *   <li>{@code mlp}: MNIST (or synthetic) with {@code tributary.train} and {@code tributary.optimizer}.
 *   <li>{@code gpt}: the recipe of {@code tributary.gpt}, as {@code train --local --model gpt} runs it:
 *       a sample is a window of {@code context} characters, one epoch is {@code steps} steps of
 *       {@code batch} windows drawn at random offsets from the seed, the shards apply AdamW with the
 *       recipe's schedule (decay on matrices only, each shard clipping its slice to its share of the
 *       clip norm, see {@link Schedule}), and the coordinator evaluates the validation loss on the
 *       recipe's validation windows every {@code eval-every} steps (unless
 *       {@code tributary.cluster.eval-every-steps} says otherwise).
 * </ul>
 */
record ModelRun(String kind, ModelShape shape, Supplier<Dataset> trainSet, Supplier<Dataset> testSet, int trainCount,
                int globalBatch, int epochs, long seed, OptimizerSettings optimizer, Schedule schedule,
                RunRecorder.CheckpointFormat checkpoints, int evalEvery) {

    static ModelRun from(Config config) {
        String kind = config.getString("tributary.model.kind");
        TrainSettings train = TrainSettings.from(config);
        if (!kind.equals("gpt")) {
            ModelSpec spec = ModelSpec.from(config);
            DataSettings data = DataSettings.from(config);
            return new ModelRun("mlp", spec, () -> DataSets.load(data, true, spec.inputs(), spec.classes()),
                    () -> DataSets.load(data, false, spec.inputs(), spec.classes()), DataSets.trainCount(data),
                    train.batchSize(), train.epochs(), train.seed(), OptimizerSettings.from(config), Schedule.from(config),
                    RunRecorder.mlp(spec.sizes()), 0);
        }
        GptTraining.Settings gpt = GptTraining.Settings.from(config);
        int context = config.getInt("tributary.gpt.context");
        CharCorpus corpus = CharCorpus.load(CharCorpus.dataDir(config).resolve("data.txt"), context);
        GptSpec spec = GptSpec.from(config, corpus.vocabularySize());
        int windows = Math.multiplyExact(gpt.steps(), gpt.batch());
        var o = gpt.optimizer();
        OptimizerSettings adamw = new OptimizerSettings(OptimizerSettings.Type.ADAMW, (float) o.learningRate(), 0.9f,
                (float) o.beta1(), (float) o.beta2(), (float) o.eps(), (float) o.weightDecay());
        Schedule schedule = new Schedule(o.warmupSteps(), o.decaySteps(), (float) o.minLearningRate(),
                (float) o.clipNorm());
        int[] vocabulary = corpus.vocabulary();
        return new ModelRun("gpt", spec, () -> GptData.trainingWindows(corpus, windows, context, gpt.seed()),
                () -> GptData.validationWindows(corpus, gpt.evalWindows(), context, gpt.seed()), windows, gpt.batch(), 1,
                gpt.seed(), adamw, schedule, (dir, name, flat, meta) -> {
                    Path file = dir.resolve(name);
                    GptCheckpoint.write(file, spec, flat, vocabulary, meta);
                    return file;
                }, gpt.evalEvery());
    }

    /** The shards' settings for this model: its optimizer, schedule and decay ranges (local SGD keeps its outer optimizer). */
    ShardSettings shardSettings(Config config) {
        ShardSettings s = ShardSettings.from(config);
        if (kind.equals("gpt") && !s.policy().equals(io.tributary.protocol.ConsistencyPolicy.LOCAL_SGD)) {
            s = s.withOptimizer(optimizer, schedule);
        }
        return s.withDecayRanges(shape.decayRanges());
    }

}
