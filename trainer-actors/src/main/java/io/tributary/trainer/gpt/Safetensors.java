package io.tributary.trainer.gpt;

import io.tributary.trainer.data.DataFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The safetensors format, for float32 tensors: an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range (plus string metadata under
 * {@code __metadata__}), padded with spaces to a multiple of 8, then the little-endian data.
 * PyTorch's {@code safetensors} package and a plain {@code json}/{@code struct} reader both read it.
 */
public final class Safetensors {

    /** A checkpoint read back: named tensors (flat, with shapes) and the metadata. */
    public record Contents(Map<String, float[]> tensors, Map<String, int[]> shapes, Map<String, String> metadata) {
    }

    private Safetensors() {
    }

    /** Writes {@code params} cut by {@code layout} to {@code file} (atomically: a temporary file, then a rename). */
    public static void write(Path file, List<GptSpec.Param> layout, float[] params, Map<String, String> metadata)
            throws IOException {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{");
        boolean first = true;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            json.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(quote(e.getValue()));
            first = false;
        }
        json.append('}');
        long offset = 0;
        for (GptSpec.Param p : layout) {
            json.append(',').append(quote(p.name())).append(":{\"dtype\":\"F32\",\"shape\":[");
            for (int i = 0; i < p.shape().length; i++) {
                json.append(i == 0 ? "" : ",").append(p.shape()[i]);
            }
            long end = offset + 4L * p.length();
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - header.length % 8) % 8;
        ByteBuffer buf = ByteBuffer.allocate(8 + header.length + pad + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length + pad).put(header);
        for (int i = 0; i < pad; i++) {
            buf.put((byte) ' ');
        }
        for (GptSpec.Param p : layout) {
            for (int i = 0; i < p.length(); i++) {
                buf.putFloat(params[p.offset() + i]);
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, ".checkpoint", ".tmp");
        try {
            Files.write(tmp, buf.array());
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static final Pattern TENSOR = Pattern.compile(
            "\"((?:[^\"\\\\]|\\\\.)*)\"\\s*:\\s*\\{\\s*\"dtype\"\\s*:\\s*\"([A-Z0-9]+)\"\\s*,\\s*\"shape\"\\s*:\\s*\\[([0-9,\\s]*)\\]"
                    + "\\s*,\\s*\"data_offsets\"\\s*:\\s*\\[\\s*([0-9]+)\\s*,\\s*([0-9]+)\\s*\\]\\s*\\}");
    private static final Pattern META = Pattern.compile("\"__metadata__\"\\s*:\\s*\\{((?:[^{}\"]|\"(?:[^\"\\\\]|\\\\.)*\")*)\\}");
    private static final Pattern PAIR = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** Reads a file {@link #write} wrote (float32 tensors only); anything else is refused saying what is wrong. */
    public static Contents read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 8) {
            throw new DataFormatException(file + " is not a safetensors file (" + all.length + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buf.getLong();
        if (headerLength < 2 || headerLength > all.length - 8) {
            throw new DataFormatException(file + " is not a safetensors file: its header length " + headerLength
                    + " does not fit in its " + all.length + " bytes");
        }
        String header = new String(all, 8, (int) headerLength, StandardCharsets.UTF_8);
        int dataStart = 8 + (int) headerLength;
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        Matcher m = TENSOR.matcher(header);
        while (m.find()) {
            String name = unquote(m.group(1));
            if (!m.group(2).equals("F32")) {
                throw new DataFormatException(file + ": tensor " + name + " is " + m.group(2) + ", only F32 is read");
            }
            String dims = m.group(3).trim();
            int[] shape = dims.isEmpty() ? new int[0]
                    : java.util.Arrays.stream(dims.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            long begin = Long.parseLong(m.group(4));
            long end = Long.parseLong(m.group(5));
            long count = 1;
            for (int d : shape) {
                count *= d;
            }
            if (end - begin != 4 * count || dataStart + end > all.length) {
                throw new DataFormatException(file + ": tensor " + name + " has byte range [" + begin + ", " + end
                        + ") that does not match its shape or lies past the file's end");
            }
            float[] data = new float[(int) count];
            ByteBuffer slice = ByteBuffer.wrap(all, dataStart + (int) begin, (int) (end - begin))
                    .order(ByteOrder.LITTLE_ENDIAN);
            slice.asFloatBuffer().get(data);
            tensors.put(name, data);
            shapes.put(name, shape);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Matcher meta = META.matcher(header);
        if (meta.find()) {
            Matcher pair = PAIR.matcher(meta.group(1));
            while (pair.find()) {
                metadata.put(unquote(pair.group(1)), unquote(pair.group(2)));
            }
        }
        return new Contents(tensors, shapes, metadata);
    }

    private static String unquote(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 1 < s.length()) {
                char next = s.charAt(++i);
                switch (next) {
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                        i += 4;
                    }
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    default -> b.append(next);
                }
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }
}
