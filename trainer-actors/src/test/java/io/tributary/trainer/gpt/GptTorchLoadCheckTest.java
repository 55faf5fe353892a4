package io.tributary.trainer.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tributary.kernels.Backend;
import io.tributary.kernels.cpu.CpuBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checkpoint of the reference shape (4 layers, 4 heads, 128 dims, context 64), trained a few
 * steps, loads into a plain PyTorch module (scripts/gpt-torch-check.py, strict names and shapes)
 * that computes the same validation loss on the same windows. Needs Debian's python3-torch
 * (scripts/setup.sh installs it); skipped, saying so, where there is none.
 */
class GptTorchLoadCheckTest {

    private static final Logger LOG = LoggerFactory.getLogger(GptTorchLoadCheckTest.class);

    @TempDir
    Path dir;

    /** A python3 that imports torch, or null. */
    static String pythonWithTorch() {
        for (String py : new String[] {"/usr/bin/python3", "python3"}) {
            try {
                Process p = new ProcessBuilder(py, "-c", "import torch").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return py;
                }
                p.destroyForcibly();
            } catch (IOException e) {
                LOG.debug("{} is not runnable: {}", py, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    @Test
    void pyTorchLoadsTheCheckpointAndComputesTheSameValidationLoss() throws Exception {
        String python = pythonWithTorch();
        if (python == null) {
            LOG.warn("skipping the PyTorch load check: no python3 with torch (apt-get install python3-torch)");
        }
        assumeTrue(python != null, "no python3 with torch: apt-get install python3-torch (scripts/setup.sh does)");
        Path script = Path.of("..", "scripts", "gpt-torch-check.py").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(script), script + " exists");
        Path data = dir.resolve("data.txt");
        StringBuilder text = new StringBuilder();
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        String[] words = {"Call", "me", "Ishmael.", "whale", "sea", "the", "of", "and", "—", "Queequeg", "ship,"};
        while (text.length() < 40_000) {
            text.append(words[r.nextInt(words.length)]).append(r.nextInt(9) == 0 ? "\n" : " ");
        }
        Files.writeString(data, text, StandardCharsets.UTF_8);
        CharCorpus corpus = CharCorpus.load(data, 64);
        GptSpec spec = new GptSpec(corpus.vocabularySize(), 64, 4, 4, 128);
        GptTraining.Settings settings = new GptTraining.Settings(8, 10, 10, 100, 7,
                new AdamW.Settings(1e-3, 1e-4, 2, 10, 0.9, 0.99, 1e-8, 0.1, 1.0));
        Path checkpoint = dir.resolve("model.safetensors");
        try (Backend backend = CpuBackend.create()) {
            Gpt model = new Gpt(spec, backend, settings.batch());
            model.initialize(7);
            GptTraining training = new GptTraining(model, corpus, settings);
            GptTraining.Result result = training.run(new GptTraining.Listener() {
                @Override
                public void onStep(int step, int steps, float loss, double tokensPerSecond) {
                }

                @Override
                public void onValidation(int step, double validationLoss) {
                }
            });
            float[] params = new float[model.parameterCount()];
            backend.download(model.parameters(), params, 0);
            GptCheckpoint.write(checkpoint, spec, params, corpus.vocabulary(), result.steps(), result.validationLoss(),
                    training.validationOffsets());
        }
        Process p = new ProcessBuilder(python, script.toString(), checkpoint.toString(), data.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the check finishes within 2 minutes");
        LOG.info("{}", out.trim());
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("within"), out);
    }
}
