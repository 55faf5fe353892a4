package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tributary.history.Checkpoint;
import io.tributary.history.ModelHistory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunRecorderTest {

    private static final int[] MNIST = {784, 512, 256, 10};

    @TempDir
    Path runDir;

    @Test
    void evaluationsBecomeCheckpointsAndAVerifiableHistory() throws IOException {
        RunRecorder recorder = new RunRecorder(runDir, 7, "ab".repeat(32), MNIST);
        float[][] params = new float[3][];
        long[] millis = new long[3];
        for (int epoch = 1; epoch <= 3; epoch++) {
            params[epoch - 1] = random(epoch, 535_818);
            long start = System.nanoTime();
            recorder.recordEvaluation(469L * epoch, epoch, params[epoch - 1], null, Map.of(1, 100L, 2, 100L, 3, 200L),
                    1.0 / epoch, 0.9 + epoch / 100.0);
            millis[epoch - 1] = (System.nanoTime() - start) / 1_000_000;
        }
        System.out.println("recordEvaluation of the MNIST MLP, ms per call: " + java.util.Arrays.toString(millis));

        Path log = runDir.resolve("history/history.jsonl");
        ModelHistory.VerifyResult r = ModelHistory.verify(log);
        assertTrue(r.ok(), r.message());
        assertEquals(3, r.entries());
        List<ModelHistory.Entry> entries = ModelHistory.read(log);
        ModelHistory.Entry second = entries.get(1);
        assertEquals(938, second.version());
        assertEquals("checkpoints/step-938.safetensors", second.checkpoint());
        assertEquals(Map.of("1", 0.25, "2", 0.25, "3", 0.5), second.contributors());
        assertEquals("ab".repeat(32), second.configHash());

        Checkpoint.Loaded loaded = Checkpoint.read(runDir.resolve("history/checkpoints/step-938.safetensors"));
        assertArrayEquals(params[1], loaded.flatParams());
        assertArrayEquals(MNIST, loaded.layerSizes());
        assertEquals("7", loaded.meta().get("run_id"));
        assertEquals("2", loaded.meta().get("epoch"));
        assertEquals("938", loaded.meta().get("step"));
    }

    @Test
    void aReopenedRunContinuesAndRefusesAStepItAlreadyHas() throws IOException {
        int[] layers = {4, 3, 2};
        new RunRecorder(runDir, 1, "h", layers).recordEvaluation(10, 1, new float[23], null, Map.of(1, 5L), 0.5, 0.5);
        RunRecorder again = new RunRecorder(runDir, 1, "h", layers);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> again.recordEvaluation(10, 1, new float[23], null, Map.of(1, 5L), 0.5, 0.5));
        assertTrue(e.getMessage().contains("step 10 is already in"), e.getMessage());
        again.recordEvaluation(20, 2, new float[23], null, Map.of(), 0.4, 0.6);
        assertTrue(ModelHistory.verify(runDir.resolve("history/history.jsonl")).ok());
    }

    /**
     * Issue 15, item 6: under sync, a checkpoint or history entry only at a cut where every shard stands at the
     * evaluated step. Parameters of shards at 30, 30 and 31 (one had moved on) are no model anyone trained.
     */
    @Test
    void parametersOfMoreThanOneVersionAreNeitherCheckpointedNorInTheHistory() throws IOException {
        int[] layers = {4, 3, 2};
        RunRecorder recorder = new RunRecorder(runDir, 1, "h", layers);
        Path checkpoints = runDir.resolve("history/checkpoints");
        Path log = runDir.resolve("history/history.jsonl");

        assertEquals(false, recorder.recordEvaluation(30, 1, new float[23], new long[] {30, 30, 31}, Map.of(1, 5L),
                0.5, 0.5));
        assertEquals(false, recorder.recordEvaluation(30, 1, new float[23], new long[] {29, 30, 30}, Map.of(1, 5L),
                0.5, 0.5));
        assertEquals(false, recorder.recordEvaluation(30, 1, new float[23], new long[] {31, 31, 31}, Map.of(1, 5L),
                0.5, 0.5), "one version, but not the evaluated step's");
        try (var files = java.nio.file.Files.list(checkpoints)) {
            assertEquals(0, files.count(), "no checkpoint for a mixed cut");
        }
        assertEquals(0, java.nio.file.Files.exists(log) ? ModelHistory.read(log).size() : 0, "no history entry");

        assertTrue(recorder.recordEvaluation(30, 1, new float[23], new long[] {30, 30, 30}, Map.of(1, 5L), 0.5, 0.5));
        List<ModelHistory.Entry> entries = ModelHistory.read(log);
        assertEquals(1, entries.size());
        assertEquals(30, entries.get(0).version());
        assertTrue(java.nio.file.Files.exists(checkpoints.resolve("step-30.safetensors")));
    }

    @Test
    void configHashIgnoresOrderAndOriginButNotValues() {
        Config a = ConfigFactory.parseString("tributary { train { epochs = 5, seed = 42 }, model.layers = [784, 10] }\n"
                + "pekko.loglevel = INFO");
        Config b = ConfigFactory.parseString("# another file\ntributary.model.layers = [784, 10]\n"
                + "tributary.train.seed = 42\ntributary.train.epochs = 5");
        Config c = ConfigFactory.parseString("tributary { train { epochs = 6, seed = 42 }, model.layers = [784, 10] }");
        assertEquals(RunRecorder.configHash(a), RunRecorder.configHash(b));
        assertNotEquals(RunRecorder.configHash(a), RunRecorder.configHash(c));
        assertEquals(64, RunRecorder.configHash(a).length());
        assertThrows(IllegalArgumentException.class, () -> RunRecorder.configHash(ConfigFactory.empty()));
    }

    private static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) r.nextGaussian() * 0.05f;
        }
        return f;
    }
}
