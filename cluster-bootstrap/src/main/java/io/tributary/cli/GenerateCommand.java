package io.tributary.cli;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.trainer.gpt.Gpt;
import io.tributary.trainer.gpt.GptCheckpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tributary generate --checkpoint FILE --prompt TEXT --tokens N}: continues a prompt with a
 * GPT checkpoint, sampling one character at a time from the softmax of the logits over the
 * temperature (the last {@code context} characters are the window).
 */
@Command(name = "generate", description = "Continue a prompt with a GPT checkpoint (from train --local --model gpt).")
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", paramLabel = "FILE", required = true, description = "a GPT checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "Call me", description = "the text to continue"
            + " (default \"${DEFAULT-VALUE}\")")
    String prompt;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "300", description = "characters to generate"
            + " (default ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8", description = "sampling temperature > 0;"
            + " lower is more conservative (default ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "sampling seed (default ${DEFAULT-VALUE})")
    long seed;

    @Mixin
    final HelpOption help = new HelpOption();

    private final PrintStream out;

    private GenerateCommand(PrintStream out) {
        this.out = out;
    }

    static CommandLine commandLine(PrintStream out) {
        return new CommandLine(new GenerateCommand(out));
    }

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(checkpoint)) {
            throw new IllegalArgumentException(checkpoint + " is not a file: give the model.safetensors that"
                    + " tributary train --local --model gpt wrote");
        }
        if (!(temperature > 0) || tokens < 0) {
            throw new IllegalArgumentException("--temperature must be > 0 and --tokens >= 0, got " + temperature + " and "
                    + tokens);
        }
        GptCheckpoint.Loaded loaded = GptCheckpoint.read(checkpoint);
        int[] vocab = loaded.vocabulary();
        int context = loaded.spec().context();
        int[] text = new int[prompt.codePointCount(0, prompt.length()) + tokens];
        int length = 0;
        for (int cp : prompt.codePoints().toArray()) {
            int id = java.util.Arrays.binarySearch(vocab, cp);
            if (id < 0) {
                throw new IllegalArgumentException("the prompt's character '" + new String(Character.toChars(cp))
                        + "' is not in the checkpoint's vocabulary: leave it out");
            }
            text[length++] = id;
        }
        if (length == 0) {
            throw new IllegalArgumentException("--prompt is empty: give at least one character to continue");
        }
        out.print(prompt);
        try (Backend backend = CpuBackend.create()) {
            Gpt model = new Gpt(loaded.spec(), backend, 1);
            backend.upload(loaded.parameters(), 0, model.parameters());
            Tensor ids = backend.allocate(context);
            float[] window = new float[context];
            float[] logits = new float[vocab.length];
            double[] p = new double[vocab.length];
            SplittableRandom random = new SplittableRandom(seed);
            for (int n = 0; n < tokens; n++) {
                int from = Math.max(0, length - context);
                int used = length - from;
                java.util.Arrays.fill(window, 0f);
                for (int i = 0; i < used; i++) {
                    window[i] = text[from + i];
                }
                backend.upload(window, 0, ids);
                // causal attention: positions past `used` cannot change the logits at used - 1
                Tensor all = model.forward(ids, 1);
                backend.download(all.slice((used - 1) * vocab.length, vocab.length), logits, 0);
                double max = Double.NEGATIVE_INFINITY;
                for (float l : logits) {
                    max = Math.max(max, l / temperature);
                }
                double sum = 0;
                for (int k = 0; k < p.length; k++) {
                    p[k] = Math.exp(logits[k] / temperature - max);
                    sum += p[k];
                }
                double r = random.nextDouble() * sum;
                int pick = p.length - 1;
                for (int k = 0; k < p.length; k++) {
                    r -= p[k];
                    if (r < 0) {
                        pick = k;
                        break;
                    }
                }
                text[length++] = pick;
                out.print(new String(Character.toChars(vocab[pick])));
                out.flush();
            }
            model.free();
        }
        out.println();
        return CommandRunner.OK;
    }
}
