package io.tributary.history;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model checkpoint: the MLP's flat parameter vector as named safetensors tensors,
 * {@code layer{i}.weight} of shape [in, out] (row-major, as {@code Dense} keeps it) and
 * {@code layer{i}.bias} of shape [out], plus string metadata. The layer widths are stored in the
 * metadata under {@value #LAYERS_KEY} (for example {@code "784,512,256,10"}) so a file can be
 * read back into a flat vector without any other input.
 */
public final class Checkpoint {

    /** Metadata key of the comma-separated layer widths. */
    public static final String LAYERS_KEY = "layers";

    /** Metadata key of the format marker. */
    public static final String FORMAT_KEY = "format";

    /** What {@value #FORMAT_KEY} says for the files written here. */
    public static final String FORMAT = "tributary-mlp";

    static final String EXTENSION = ".safetensors";

    private Checkpoint() {
    }

    /** A checkpoint read back: layer widths, the flat parameter vector, and all metadata. */
    public record Loaded(int[] layerSizes, float[] flatParams, Map<String, String> meta) {
    }

    /** Parameters in a flat vector for {@code layerSizes}: each layer's in*out weights then out biases. */
    public static long parameterCount(int[] layerSizes) {
        if (layerSizes.length < 2) {
            throw new IllegalArgumentException("a model needs at least an input and an output width, got "
                    + Arrays.toString(layerSizes));
        }
        long n = 0;
        for (int i = 0; i + 1 < layerSizes.length; i++) {
            if (layerSizes[i] < 1 || layerSizes[i + 1] < 1) {
                throw new IllegalArgumentException("layer widths must be >= 1, got " + Arrays.toString(layerSizes));
            }
            n += (long) layerSizes[i] * layerSizes[i + 1] + layerSizes[i + 1];
        }
        return n;
    }

    /**
     * Writes {@code flatParams} for {@code layerSizes} to {@code dir/name} atomically ({@code .safetensors}
     * is appended to {@code name} when missing) and returns the file. {@code meta} is stored as given,
     * with the format and layer widths added.
     */
    public static Path write(Path dir, String name, int[] layerSizes, float[] flatParams, Map<String, String> meta)
            throws IOException {
        long expected = parameterCount(layerSizes);
        if (expected != flatParams.length) {
            throw new IllegalArgumentException("layers " + Arrays.toString(layerSizes) + " have " + expected
                    + " parameters but the vector has " + flatParams.length);
        }
        if (meta.containsKey(LAYERS_KEY) || meta.containsKey(FORMAT_KEY)) {
            throw new IllegalArgumentException("checkpoint metadata keys '" + LAYERS_KEY + "' and '" + FORMAT_KEY
                    + "' are written by Checkpoint itself; remove them from " + meta.keySet());
        }
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        int offset = 0;
        for (int i = 0; i + 1 < layerSizes.length; i++) {
            int in = layerSizes[i];
            int out = layerSizes[i + 1];
            tensors.put("layer" + i + ".weight", new Safetensors.Tensor(new int[] {in, out},
                    Arrays.copyOfRange(flatParams, offset, offset + in * out)));
            offset += in * out;
            tensors.put("layer" + i + ".bias", new Safetensors.Tensor(new int[] {out},
                    Arrays.copyOfRange(flatParams, offset, offset + out)));
            offset += out;
        }
        Map<String, String> all = new LinkedHashMap<>();
        all.put(FORMAT_KEY, FORMAT);
        all.put(LAYERS_KEY, layersText(layerSizes));
        all.putAll(meta);
        Path file = dir.resolve(name.endsWith(EXTENSION) ? name : name + EXTENSION);
        Safetensors.write(file, tensors, all);
        return file;
    }

    /** Reads a checkpoint written by {@link #write}, checking every tensor's name and shape. */
    public static Loaded read(Path file) throws IOException {
        Safetensors.Contents c = Safetensors.read(file);
        String layersText = c.metadata().get(LAYERS_KEY);
        if (layersText == null) {
            throw new CheckpointException(file, "metadata has no '" + LAYERS_KEY
                    + "' entry, so it is not a Tributary MLP checkpoint");
        }
        int[] sizes;
        long count;
        try {
            sizes = Arrays.stream(layersText.split(",", -1)).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
            count = parameterCount(sizes);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "metadata '" + LAYERS_KEY + "' is not a list of widths: "
                    + Json.quote(layersText));
        }
        if (count > Integer.MAX_VALUE - 64) {
            throw new CheckpointException(file, "layers " + layersText + " need " + count + " parameters, too many");
        }
        int expectedTensors = 2 * (sizes.length - 1);
        if (c.tensors().size() != expectedTensors) {
            throw new CheckpointException(file, "has " + c.tensors().size() + " tensors but layers " + layersText
                    + " need " + expectedTensors + " (layer{i}.weight and layer{i}.bias)");
        }
        float[] flat = new float[(int) count];
        int offset = 0;
        for (int i = 0; i + 1 < sizes.length; i++) {
            offset = copyInto(file, c, "layer" + i + ".weight", new int[] {sizes[i], sizes[i + 1]}, flat, offset);
            offset = copyInto(file, c, "layer" + i + ".bias", new int[] {sizes[i + 1]}, flat, offset);
        }
        return new Loaded(sizes, flat, c.metadata());
    }

    /** The file's SHA-256 as 64 lowercase hex digits. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256, which every Java SE platform must provide", e);
        }
    }

    private static int copyInto(Path file, Safetensors.Contents c, String name, int[] shape, float[] flat, int offset)
            throws CheckpointException {
        Safetensors.Tensor t = c.tensors().get(name);
        if (t == null) {
            throw new CheckpointException(file, "has no tensor " + Json.quote(name));
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new CheckpointException(file, "tensor " + Json.quote(name) + " has shape " + Arrays.toString(t.shape())
                    + " but the layers need " + Arrays.toString(shape));
        }
        System.arraycopy(t.data(), 0, flat, offset, t.data().length);
        return offset + t.data().length;
    }

    private static String layersText(int[] sizes) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sizes.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(sizes[i]);
        }
        return sb.toString();
    }
}
