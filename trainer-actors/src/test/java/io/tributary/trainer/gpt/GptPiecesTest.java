package io.tributary.trainer.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.kernels.Backend;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.trainer.data.DataFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The corpus, the schedule, the checkpoint format and a short training run of the GPT model. */
class GptPiecesTest {

    @TempDir
    Path dir;

    @Test
    void theVocabularyIsTheSortedCharactersAndTheFirstNinetyPercentTrain() throws IOException {
        Path f = dir.resolve("data.txt");
        // 20 characters: "ba—" has an em dash (3 bytes in UTF-8, one character)
        Files.writeString(f, "ba—ab cab ba—ab cabX", StandardCharsets.UTF_8);
        CharCorpus c = CharCorpus.load(f, 1);
        assertEquals(20, c.length());
        assertEquals(18, c.trainLength(), "floor(0.9 * 20)");
        assertEquals(2, c.validationLength());
        assertArrayEquals(new int[] {' ', 'X', 'a', 'b', 'c', '—'}, c.vocabulary());
        assertEquals(3, c.encode('b'));
        assertEquals(-1, c.encode('z'));
        float[] ids = new float[3];
        float[] targets = new float[3];
        c.window(0, 3, ids, targets, 0);
        assertArrayEquals(new float[] {3, 2, 5}, ids, "b a —");
        assertArrayEquals(new float[] {2, 5, 2}, targets, "shifted by one");
        SplittableRandom r = new SplittableRandom(1);
        float[] many = new float[2 * 5];
        float[] next = new float[2 * 5];
        for (int i = 0; i < 200; i++) {
            c.trainingBatch(r, 2, 5, many, next);
            // a training window never reaches into the validation part: the last training character is 'a' at 17
            for (float id : next) {
                assertTrue(id != 1, "'X' (the last character) is validation only");
            }
        }
    }

    @Test
    void aFileThatIsNotUtf8OrTooShortIsRefusedSayingWhy() throws IOException {
        Path bad = dir.resolve("bad.txt");
        Files.write(bad, new byte[] {'a', (byte) 0xff, 'b', 'c'});
        assertTrue(assertThrows(DataFormatException.class, () -> CharCorpus.load(bad, 1)).getMessage()
                .contains("not UTF-8"));
        Path shortFile = dir.resolve("short.txt");
        Files.writeString(shortFile, "abcdefghij");
        assertTrue(assertThrows(DataFormatException.class, () -> CharCorpus.load(shortFile, 4)).getMessage()
                .contains("too few"));
        assertTrue(assertThrows(DataFormatException.class, () -> CharCorpus.load(dir.resolve("none.txt"), 4))
                .getMessage().contains("fetch-moby-dick"));
    }

    @Test
    void theLearningRateWarmsUpLinearlyThenFollowsTheCosineToItsFloor() {
        AdamW.Settings s = AdamW.Settings.reference();
        assertEquals(1e-3 / 101, AdamW.learningRate(s, 0), 1e-12, "first warm-up step");
        assertEquals(1e-3 * 100 / 101, AdamW.learningRate(s, 99), 1e-12, "last warm-up step");
        assertEquals(1e-3, AdamW.learningRate(s, 100), 1e-12, "the peak");
        assertEquals(0.55e-3, AdamW.learningRate(s, 1050), 1e-9, "half-way: the mean of peak and floor");
        assertEquals(1e-4, AdamW.learningRate(s, 2000), 1e-12, "the floor");
        assertEquals(1e-4, AdamW.learningRate(s, 5000), 1e-12, "stays at the floor");
    }

    @Test
    void aCheckpointReadsBackWithItsNamesShapesAndVocabulary() throws IOException {
        GptSpec spec = new GptSpec(6, 4, 1, 2, 4);
        float[] params = Gpt.initialParameters(spec, 9);
        int[] vocab = {' ', 'X', 'a', 'b', 'c', '—'};
        Path f = dir.resolve("m.safetensors");
        GptCheckpoint.write(f, spec, params, vocab, 17, 1.25, new int[] {3, 5});
        byte[] raw = Files.readAllBytes(f);
        long headerLength = java.nio.ByteBuffer.wrap(raw, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(8 + headerLength + 4L * spec.parameterCount(), raw.length, "every float once: the head is tied");
        String header = new String(raw, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"transformer.h.0.attn.c_attn.weight\":{\"dtype\":\"F32\",\"shape\":[12,4]"), header);
        GptCheckpoint.Loaded back = GptCheckpoint.read(f);
        assertEquals(spec, back.spec());
        assertArrayEquals(params, back.parameters());
        assertArrayEquals(vocab, back.vocabulary());
        assertEquals("1.25", back.metadata().get("validation-loss"));
        Files.write(f, new byte[] {1, 2, 3});
        assertThrows(io.tributary.history.CheckpointException.class, () -> GptCheckpoint.read(f));
    }

    /**
     * A text that repeats one 14-character phrase is fully predictable after its first characters:
     * a small model must get its validation loss far below the uniform ln(vocab) in 150 steps.
     */
    @Test
    void aShortRunLearnsARepetitiveText() throws IOException {
        Path f = dir.resolve("data.txt");
        Files.writeString(f, "call me ishm. ".repeat(400));
        CharCorpus corpus = CharCorpus.load(f, 16);
        GptSpec spec = new GptSpec(corpus.vocabularySize(), 16, 2, 2, 32);
        GptTraining.Settings settings = new GptTraining.Settings(8, 150, 150, 20, 5,
                new AdamW.Settings(3e-3, 3e-4, 10, 150, 0.9, 0.99, 1e-8, 0.1, 1.0));
        try (Backend backend = CpuBackend.create()) {
            Gpt model = new Gpt(spec, backend, settings.batch());
            model.initialize(5);
            GptTraining training = new GptTraining(model, corpus, settings);
            double before = training.validationLoss();
            assertEquals(Math.log(corpus.vocabularySize()), before, 0.1, "a fresh model is near uniform");
            GptTraining.Result r = training.run(new GptTraining.Listener() {
                @Override
                public void onStep(int step, int steps, float loss, double tokensPerSecond) {
                }

                @Override
                public void onValidation(int step, double validationLoss) {
                }
            });
            assertTrue(r.validationLoss() < 0.5, "validation loss " + r.validationLoss() + " after 150 steps");
            model.free();
            training.optimizer().free();
        }
    }

    @Test
    void onlyTheMatricesDecayAndAdjacentOnesMakeOneRange() {
        GptSpec spec = new GptSpec(5, 3, 1, 1, 2); // c = 2: wte 10, wpe 6, then the block
        // wte [0, 10) and wpe [10, 16) touch; ln_1 (4) at 16; c_attn.weight [20, 32), its bias 6 to 38;
        // c_proj.weight [38, 42), bias 2 to 44; ln_2 4 to 48; c_fc.weight [48, 64), bias 8 to 72;
        // mlp.c_proj.weight [72, 88), bias 2 to 90; ln_f 4 to 94
        assertArrayEquals(new int[] {0, 16, 20, 32, 38, 42, 48, 64, 72, 88}, spec.decayRanges());
        assertEquals(94, spec.parameterCount());
    }

    @Test
    void windowsAreSamplesWhoseLabelsAreTheNextCharacters() throws IOException {
        Path f = dir.resolve("data.txt");
        Files.writeString(f, "abcdefghijklmnopqrstuvwxyz".repeat(4));
        CharCorpus c = CharCorpus.load(f, 4);
        io.tributary.trainer.data.Dataset windows = GptData.trainingWindows(c, 7, 4, 3);
        assertEquals(7, windows.count());
        assertEquals(4, windows.features());
        assertEquals(4, windows.labelWidth());
        float[] x = new float[2 * 4];
        float[] y = new float[2 * 4];
        windows.copyBatch(new int[] {5, 2}, 0, 2, x, y);
        for (int i = 0; i < 2; i++) {
            for (int t = 0; t < 4; t++) {
                // the alphabet: the next character is the next letter (z is never a window's input here: 'a' follows it)
                assertEquals((x[i * 4 + t] + 1) % 26, y[i * 4 + t], 0f, "window " + i + " position " + t);
            }
        }
        io.tributary.trainer.data.Dataset validation = GptData.validationWindows(c, 5, 4, 42);
        int[] offsets = c.validationOffsets(5, 4, GptTraining.validationSeed(42));
        float[] vx = new float[4];
        float[] vy = new float[4];
        validation.copyBatch(new int[] {3}, 0, 1, vx, vy);
        float[] wantX = new float[4];
        float[] wantY = new float[4];
        c.window(offsets[3], 4, wantX, wantY, 0);
        assertArrayEquals(wantX, vx, "the local run's validation windows");
        assertArrayEquals(wantY, vy);
    }

    @Test
    void accuracyCountsEveryPositionsNextCharacter() throws IOException {
        Path f = dir.resolve("data.txt");
        Files.writeString(f, "ab".repeat(200));
        CharCorpus c = CharCorpus.load(f, 8);
        GptSpec spec = new GptSpec(c.vocabularySize(), 8, 1, 1, 8);
        io.tributary.trainer.data.Dataset val = GptData.validationWindows(c, 6, 8, 1);
        try (Backend backend = CpuBackend.create()) {
            Gpt model = new Gpt(spec, backend, 4);
            // every parameter 0: all logits equal, argmax is the first token ('a') everywhere, right at half the positions
            double acc = io.tributary.trainer.model.Evaluation.accuracy(model, val);
            assertEquals(0.5, acc, 1e-9);
            assertEquals(Math.log(2), io.tributary.trainer.model.Evaluation.loss(model, val), 1e-6, "uniform over 2");
            model.free();
        }
    }
}
