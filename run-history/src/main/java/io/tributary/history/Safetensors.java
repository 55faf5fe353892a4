package io.tributary.history;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes the safetensors format, float32 tensors only.
 *
 * <p>Layout: an unsigned 64-bit little-endian header length N; N bytes of UTF-8 JSON, an object
 * mapping each tensor name to {@code {"dtype":"F32","shape":[..],"data_offsets":[begin,end]}} plus an
 * optional {@code "__metadata__"} object of strings to strings, padded with spaces; then the data
 * buffer, each tensor row-major and little-endian at {@code [begin, end)} relative to the buffer's
 * start. Tensors must cover the buffer exactly, without gaps or overlaps. We write the header padded
 * to a multiple of 8 bytes, {@code __metadata__} first, then the tensors in the order given and
 * packed in that order.
 */
public final class Safetensors {

    private static final Logger LOG = LoggerFactory.getLogger(Safetensors.class);

    /** The reference implementation's limit on the header; larger ones are refused. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    static final String METADATA_KEY = "__metadata__";

    private static final int LENGTH_BYTES = 8;

    private Safetensors() {
    }

    /** A float32 tensor: its shape and its elements, row-major. */
    public record Tensor(int[] shape, float[] data) {

        /** Checks that the shape's element count is the data's length. */
        public Tensor {
            long count = elementCount(shape);
            if (count != data.length) {
                throw new IllegalArgumentException("tensor shape " + Arrays.toString(shape) + " holds " + count
                        + " floats but the data has " + data.length);
            }
        }

        static long elementCount(int[] shape) {
            long count = 1;
            for (int d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor shape has a negative dimension: " + Arrays.toString(shape));
                }
                count *= d;
            }
            return count;
        }
    }

    /** A file's tensors, in data-offset order, and its metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    /**
     * Writes {@code tensors} and {@code metadata} to {@code file} atomically: a temporary file in the
     * same directory is written and forced to disk, then renamed over {@code file}.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        long dataBytes = 0;
        for (Tensor t : tensors.values()) {
            dataBytes += (long) t.data().length * Float.BYTES;
        }
        long total = LENGTH_BYTES + header.length + dataBytes;
        if (total > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("checkpoint of " + total + " bytes is over the 2 GiB this writer handles: "
                    + file);
        }
        ByteBuffer buf = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length);
        buf.put(header);
        for (Tensor t : tensors.values()) {
            int bytes = t.data().length * Float.BYTES;
            buf.slice(buf.position(), bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(t.data());
            buf.position(buf.position() + bytes);
        }
        buf.flip();
        writeAtomically(file, buf);
    }

    /**
     * Reads and checks {@code file}. Refuses, with a one-line {@link CheckpointException} naming the
     * file, anything that is not a well-formed float32 safetensors file.
     */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < LENGTH_BYTES) {
                throw new CheckpointException(file, "file is " + size + " bytes, shorter than the 8-byte header length"
                        + " (truncated?)");
            }
            ByteBuffer lengthBuf = ByteBuffer.allocate(LENGTH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lengthBuf, 0);
            long n = lengthBuf.getLong(0);
            if (n < 0 || n > size - LENGTH_BYTES) {
                throw new CheckpointException(file, "header length " + Long.toUnsignedString(n)
                        + " is beyond the end of the file (" + size + " bytes; truncated or not safetensors?)");
            }
            if (n > MAX_HEADER_BYTES) {
                throw new CheckpointException(file, "header length " + n + " is over the " + MAX_HEADER_BYTES
                        + "-byte limit");
            }
            if (n < 2) {
                throw new CheckpointException(file, "header length " + n + " is too small for a JSON object");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
            readFully(ch, headerBuf, LENGTH_BYTES);
            Header header = parseHeader(file, headerBuf.array());
            long dataBytes = size - LENGTH_BYTES - n;
            List<Slot> slots = checkLayout(file, header.slots(), dataBytes);
            if (dataBytes > Integer.MAX_VALUE - 64) {
                throw new CheckpointException(file, "data buffer of " + dataBytes + " bytes is over the 2 GiB this"
                        + " reader handles");
            }
            ByteBuffer data = ByteBuffer.allocate((int) dataBytes).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, data, LENGTH_BYTES + n);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Slot s : slots) {
                float[] values = new float[(int) ((s.end() - s.begin()) / Float.BYTES)];
                data.slice((int) s.begin(), (int) (s.end() - s.begin())).order(ByteOrder.LITTLE_ENDIAN)
                        .asFloatBuffer().get(values);
                tensors.put(s.name(), new Tensor(s.shape(), values));
            }
            return new Contents(Collections.unmodifiableMap(tensors), header.metadata());
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file");
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        StringBuilder sb = new StringBuilder(128 + 96 * tensors.size());
        sb.append('{');
        boolean first = true;
        if (!metadata.isEmpty()) {
            Json.quote(sb, METADATA_KEY);
            sb.append(":{");
            boolean firstMeta = true;
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (m.getKey() == null || m.getValue() == null) {
                    throw new IllegalArgumentException("checkpoint metadata has a null key or value: " + metadata);
                }
                if (!firstMeta) {
                    sb.append(',');
                }
                firstMeta = false;
                Json.quote(sb, m.getKey());
                sb.append(':');
                Json.quote(sb, m.getValue());
            }
            sb.append('}');
            first = false;
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("tensor name " + name + " is reserved or missing");
            }
            Tensor t = e.getValue();
            long end = offset + (long) t.data().length * Float.BYTES;
            if (!first) {
                sb.append(',');
            }
            first = false;
            Json.quote(sb, name);
            sb.append(":{\"dtype\":\"F32\",\"shape\":[");
            for (int i = 0; i < t.shape().length; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(t.shape()[i]);
            }
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        sb.append('}');
        byte[] json = Json.utf8(sb.toString());
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private record Slot(String name, int[] shape, long begin, long end) {
    }

    private record Header(List<Slot> slots, Map<String, String> metadata) {
    }

    private static Header parseHeader(Path file, byte[] bytes) throws CheckpointException {
        String text = Json.utf8OrNull(bytes, 0, bytes.length);
        if (text == null) {
            throw new CheckpointException(file, "header is not valid UTF-8");
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new CheckpointException(file, "header does not start with '{' (not a safetensors file?)");
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (Json.Malformed e) {
            throw new CheckpointException(file, "header is not valid JSON: " + e.getMessage());
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> top = (Map<String, Object>) root;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Slot> slots = new ArrayList<>();
        for (Map.Entry<String, Object> e : top.entrySet()) {
            String name = e.getKey();
            if (name.equals(METADATA_KEY)) {
                if (!(e.getValue() instanceof Map<?, ?> meta)) {
                    throw new CheckpointException(file, "__metadata__ must be an object of strings to strings");
                }
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String value)) {
                        throw new CheckpointException(file, "__metadata__ value for " + Json.quote((String) m.getKey())
                                + " is not a string");
                    }
                    metadata.put((String) m.getKey(), value);
                }
                continue;
            }
            slots.add(slot(file, name, e.getValue()));
        }
        return new Header(slots, Collections.unmodifiableMap(metadata));
    }

    private static Slot slot(Path file, String name, Object value) throws CheckpointException {
        String quoted = Json.quote(name);
        if (!(value instanceof Map<?, ?> info)) {
            throw new CheckpointException(file, "tensor " + quoted + " is not an object");
        }
        for (Object key : info.keySet()) {
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new CheckpointException(file, "tensor " + quoted + " has an unknown field " + Json.quote((String) key));
            }
        }
        Object dtype = info.get("dtype");
        if (!(dtype instanceof String d)) {
            throw new CheckpointException(file, "tensor " + quoted + " has no dtype string");
        }
        if (!d.equals("F32")) {
            throw new CheckpointException(file, "tensor " + quoted + " has dtype " + Json.quote(d)
                    + "; only F32 is supported");
        }
        List<Long> shapeList = integers(file, quoted, "shape", info.get("shape"));
        int[] shape = new int[shapeList.size()];
        for (int i = 0; i < shape.length; i++) {
            if (shapeList.get(i) > Integer.MAX_VALUE) {
                throw new CheckpointException(file, "tensor " + quoted + " has a dimension over 2^31-1: " + shapeList);
            }
            shape[i] = shapeList.get(i).intValue();
        }
        List<Long> offsets = integers(file, quoted, "data_offsets", info.get("data_offsets"));
        if (offsets.size() != 2) {
            throw new CheckpointException(file, "tensor " + quoted + " needs data_offsets [begin, end], got " + offsets);
        }
        return new Slot(name, shape, offsets.get(0), offsets.get(1));
    }

    private static List<Long> integers(Path file, String tensor, String field, Object value) throws CheckpointException {
        if (!(value instanceof List<?> list)) {
            throw new CheckpointException(file, "tensor " + tensor + " has no " + field + " array");
        }
        List<Long> out = new ArrayList<>(list.size());
        for (Object o : list) {
            if (!(o instanceof Json.Num num) || !num.isNonNegativeInteger()) {
                throw new CheckpointException(file, "tensor " + tensor + " has a " + field
                        + " entry that is not a non-negative integer");
            }
            try {
                out.add(Long.parseLong(num.text()));
            } catch (NumberFormatException e) {
                throw new CheckpointException(file, "tensor " + tensor + " has a " + field + " entry too large: "
                        + num.text());
            }
        }
        return out;
    }

    /** Checks shapes against offsets and that the tensors tile the data buffer; returns them in offset order. */
    private static List<Slot> checkLayout(Path file, List<Slot> slots, long dataBytes) throws CheckpointException {
        List<Slot> sorted = new ArrayList<>(slots);
        sorted.sort(Comparator.comparingLong(Slot::begin).thenComparingLong(Slot::end));
        long expected = 0;
        Slot previous = null;
        for (Slot s : sorted) {
            String where = "tensor " + Json.quote(s.name()) + " data_offsets [" + s.begin() + ", " + s.end() + "]";
            if (s.end() < s.begin()) {
                throw new CheckpointException(file, where + " end before they begin");
            }
            if (s.end() > dataBytes) {
                throw new CheckpointException(file, where + " run past the end of the " + dataBytes
                        + "-byte data buffer (truncated file?)");
            }
            if (s.begin() < expected) {
                throw new CheckpointException(file, where + " overlap tensor " + Json.quote(previous.name())
                        + " [" + previous.begin() + ", " + previous.end() + "]");
            }
            if (s.begin() > expected) {
                throw new CheckpointException(file, "data buffer has a " + (s.begin() - expected)
                        + "-byte gap at offset " + expected + " before " + where);
            }
            long count;
            try {
                count = Math.multiplyExact(elementCountExact(s.shape()), Float.BYTES);
            } catch (ArithmeticException e) {
                count = -1;
            }
            if (count != s.end() - s.begin()) {
                throw new CheckpointException(file, where + " span " + (s.end() - s.begin()) + " bytes but shape "
                        + Arrays.toString(s.shape()) + " of F32 needs " + (count < 0 ? "more than 2^63" : count));
            }
            expected = s.end();
            previous = s;
        }
        if (expected != dataBytes) {
            throw new CheckpointException(file, "data buffer has " + dataBytes + " bytes but the tensors cover "
                    + expected + " (trailing bytes)");
        }
        return sorted;
    }

    private static long elementCountExact(int[] shape) {
        long count = 1;
        for (int d : shape) {
            count = Math.multiplyExact(count, (long) d);
        }
        return count;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, at);
            if (n < 0) {
                throw new IOException("file shrank while being read");
            }
            at += n;
        }
    }

    /**
     * Writes {@code content} to a temporary file next to {@code file}, forces it to disk and renames
     * it over {@code file}, so a reader sees the old file or the new one, never a torn one.
     */
    static void writeAtomically(Path file, ByteBuffer content) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                while (content.hasRemaining()) {
                    ch.write(content);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
            forceDirectory(dir);
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Makes a rename or a new file in {@code dir} durable; some platforms cannot open a directory. */
    static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.debug("cannot fsync directory {} on this platform ({}); the rename is done but may not survive"
                    + " a power cut", dir, e.toString());
        }
    }
}
