package io.tributary.trainer.gpt;

import io.tributary.history.Safetensors;
import io.tributary.trainer.data.DataFormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A GPT checkpoint as safetensors: the parameters under the names and shapes of a plain PyTorch
 * module of this architecture ({@link GptSpec#layout()}; the head is tied to
 * {@code transformer.wte.weight} and not stored twice), and in the metadata the shape, the
 * vocabulary (code points), the step, the validation loss and the validation windows' offsets, so
 * that another implementation can load it and recompute that loss on the same windows.
 */
public final class GptCheckpoint {

    /** A checkpoint read back. */
    public record Loaded(GptSpec spec, float[] parameters, int[] vocabulary, Map<String, String> metadata) {
    }

    private GptCheckpoint() {
    }

    public static void write(Path file, GptSpec spec, float[] parameters, int[] vocabulary, int step,
                             double validationLoss, int[] validationOffsets) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("step", Integer.toString(step));
        meta.put("validation-loss", Double.toString(validationLoss));
        meta.put("validation-offsets",
                Arrays.stream(validationOffsets).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        write(file, spec, parameters, vocabulary, meta);
    }

    /** Writes a checkpoint with {@code extra} metadata (a cluster run's step, run id, config hash). */
    public static void write(Path file, GptSpec spec, float[] parameters, int[] vocabulary, Map<String, String> extra)
            throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "tributary-gpt-1");
        meta.put("layers", Integer.toString(spec.layers()));
        meta.put("heads", Integer.toString(spec.heads()));
        meta.put("embedding", Integer.toString(spec.embedding()));
        meta.put("context", Integer.toString(spec.context()));
        meta.put("vocab", Integer.toString(spec.vocab()));
        meta.put("vocabulary", Arrays.stream(vocabulary).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        for (Map.Entry<String, String> e : extra.entrySet()) {
            meta.putIfAbsent(e.getKey(), e.getValue());
        }
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (GptSpec.Param p : spec.layout()) {
            tensors.put(p.name(), new Safetensors.Tensor(p.shape(),
                    Arrays.copyOfRange(parameters, p.offset(), p.offset() + p.length())));
        }
        Safetensors.write(file, tensors, meta);
    }

    public static Loaded read(Path file) throws IOException {
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = c.metadata();
        if (!"tributary-gpt-1".equals(meta.get("format"))) {
            throw new DataFormatException(file + " is not a Tributary GPT checkpoint (metadata format is "
                    + meta.get("format") + "): write one with tributary train --local --model gpt");
        }
        int[] vocabulary = Arrays.stream(meta.get("vocabulary").split(",")).mapToInt(Integer::parseInt).toArray();
        GptSpec spec = new GptSpec(vocabulary.length, Integer.parseInt(meta.get("context")),
                Integer.parseInt(meta.get("layers")), Integer.parseInt(meta.get("heads")),
                Integer.parseInt(meta.get("embedding")));
        float[] params = new float[spec.parameterCount()];
        for (GptSpec.Param p : spec.layout()) {
            Safetensors.Tensor t = c.tensors().get(p.name());
            if (t == null || !Arrays.equals(t.shape(), p.shape())) {
                throw new DataFormatException(file + ": tensor " + p.name() + " is missing or not of shape "
                        + Arrays.toString(p.shape()));
            }
            System.arraycopy(t.data(), 0, params, p.offset(), t.data().length);
        }
        return new Loaded(spec, params, vocabulary, meta);
    }
}
