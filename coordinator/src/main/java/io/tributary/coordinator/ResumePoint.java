package io.tributary.coordinator;

import io.tributary.history.Checkpoint;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a resumed run starts ({@code tributary.cluster.resume-from}, {@code --resume}): the
 * parameters of a safetensors checkpoint this project wrote and the step it was taken after. The
 * path is a checkpoint file, or a run folder (or its {@code history} or {@code checkpoints}
 * folder), in which case the checkpoint of the highest step is used.
 *
 * <p>What is restored: the parameters, exactly, and the step count (the run goes on at that step,
 * with the same data order when the trainer count and batch size are the same). What is not: the
 * optimizer's moments, which start again from zero (the checkpoint format holds only weights).
 */
public record ResumePoint(Path file, long step, float[] parameters) {

    private static final Pattern STEP_FILE = Pattern.compile("step-(\\d+)\\.safetensors");

    /**
     * Loads the checkpoint at or under {@code path} and checks it against the model's layer widths.
     *
     * @throws IllegalArgumentException when there is no checkpoint there, it is malformed, truncated
     *     or altered (the message says which), or it holds another model
     */
    public static ResumePoint load(Path path, int[] layerSizes) {
        Path file = resolve(path);
        Checkpoint.Loaded loaded;
        try {
            loaded = Checkpoint.read(file);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot resume from " + file + ": " + e.getMessage(), e);
        }
        if (!Arrays.equals(loaded.layerSizes(), layerSizes)) {
            throw new IllegalArgumentException("cannot resume from " + file + ": it holds a model with layers "
                    + Arrays.toString(loaded.layerSizes()) + " but this run's tributary.model.layers is "
                    + Arrays.toString(layerSizes));
        }
        String step = loaded.meta().get("step");
        long s;
        try {
            s = Long.parseLong(step == null ? "" : step.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cannot resume from " + file + ": its metadata has no whole 'step' ("
                    + step + "); only checkpoints of a Tributary run can be resumed", e);
        }
        if (s < 0) {
            throw new IllegalArgumentException("cannot resume from " + file + ": its step " + s + " is negative");
        }
        return new ResumePoint(file, s, loaded.flatParams());
    }

    private static Path resolve(Path path) {
        if (Files.isRegularFile(path)) {
            return path;
        }
        if (!Files.isDirectory(path)) {
            throw new IllegalArgumentException("cannot resume from " + path + ": no such file or folder");
        }
        for (Path dir : new Path[] {path.resolve("history").resolve("checkpoints"), path.resolve("checkpoints"), path}) {
            Path best = null;
            long bestStep = -1;
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "step-*.safetensors")) {
                for (Path p : s) {
                    Matcher m = STEP_FILE.matcher(p.getFileName().toString());
                    if (m.matches() && Long.parseLong(m.group(1)) > bestStep) {
                        bestStep = Long.parseLong(m.group(1));
                        best = p;
                    }
                }
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot list " + dir + ": " + e.getMessage(), e);
            }
            if (best != null) {
                return best;
            }
        }
        throw new IllegalArgumentException("cannot resume from " + path + ": no step-N.safetensors in it, its history/"
                + "checkpoints or checkpoints folder");
    }
}
