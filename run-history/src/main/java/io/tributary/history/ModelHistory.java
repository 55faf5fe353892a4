package io.tributary.history;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * An append-only, hash-chained log of model evaluations, one JSON object per line
 * ({@value #FILE_NAME}). Each entry names its checkpoint by path and SHA-256 and links to the entry
 * before it by that entry's hash, so changing, inserting or removing any entry, or any checkpoint
 * it names, is caught by {@link #verify}. Removing entries from the end is not: compare the head
 * hash {@link #verify} reports with one recorded elsewhere.
 *
 * <p><b>Canonical form.</b> A line is
 * <pre>{"index":I,"version":V,"parent":P,"checkpoint":C,"checkpointSha256":S,"configHash":H,
 * "contributors":{"ID":SHARE,...},"loss":L,"accuracy":A,"time":T,"hash":X}</pre>
 * on one line, keys in exactly this order, no whitespace anywhere. Integers are written as
 * {@link Long#toString(long)}, other numbers as {@link Double#toString(double)} (finite only).
 * Strings are JSON strings that escape only {@code "}, {@code \} and control characters
 * ({@code \n \r \t \b \f}, others as {@code \}{@code u00xx} in lowercase hex); everything else is
 * written as UTF-8. Contributor ids are 1 to 64 characters of {@code [A-Za-z0-9._-]}, sorted in ASCII
 * order, each mapped to its share of the samples. {@code parent} is the previous entry's {@code hash}
 * (64 zeros for entry 0); {@code time} is an ISO-8601 instant in UTC. {@code checkpoint} is a
 * relative path with {@code /} separators and no {@code ..}, resolved against this file's directory.
 *
 * <p><b>Hash.</b> {@code hash} is the SHA-256, in lowercase hex, of the UTF-8 bytes of the line
 * without its hash member: everything before {@code ,"hash":} followed by {@code }}. A verifier hashes
 * the bytes as written and never re-renders numbers, so any language's SHA-256 can check a line.
 *
 * <p>An instance appends to one file from one thread at a time (the coordinator's); reading and
 * verifying are static and may run anywhere.
 */
public final class ModelHistory {

    /** The log's file name inside a history folder. */
    public static final String FILE_NAME = "history.jsonl";

    /** The parent of entry 0. */
    public static final String GENESIS = "0".repeat(64);

    private static final String HASH_MEMBER = ",\"hash\":\"";
    /** {@code ,"hash":"} + 64 hex digits + {@code "}}. */
    private static final int HASH_SUFFIX_LENGTH = HASH_MEMBER.length() + 64 + 2;
    private static final Pattern CONTRIBUTOR_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final HexFormat HEX = HexFormat.of();

    private final Path file;
    private long nextIndex;
    private String head;

    private ModelHistory(Path file, long nextIndex, String head) {
        this.file = file;
        this.nextIndex = nextIndex;
        this.head = head;
    }

    /** What the caller records about one evaluation; {@link #append} adds index, parent and hash. */
    public record Evaluation(long version, String checkpoint, String checkpointSha256, String configHash,
                             Map<String, Double> contributors, double loss, double accuracy, Instant time) {
    }

    /** One line of the log. {@code contributors} is in canonical (ASCII) order. */
    public record Entry(long index, long version, String parent, String checkpoint, String checkpointSha256,
                        String configHash, Map<String, Double> contributors, double loss, double accuracy,
                        Instant time, String hash) {
    }

    /**
     * What {@link #verify} found: OK with the entry count and the head hash, or the first entry that
     * does not check out and why, in {@link #message()} (one line).
     */
    public record VerifyResult(boolean ok, int entries, int firstBadEntry, String headHash, String message) {

        static VerifyResult ok(int entries, String head) {
            return new VerifyResult(true, entries, -1, head, "history OK: " + entries + " entries");
        }

        static VerifyResult failed(Path file, int entry, String problem) {
            return new VerifyResult(false, entry, entry, null,
                    file + ": entry " + entry + " (line " + (entry + 1) + "): " + problem);
        }
    }

    /**
     * Opens {@code file} for appending, reading what it holds to learn the next index and parent. A
     * missing file is an empty history; a file that ends in a partial line is refused.
     */
    public static ModelHistory open(Path file) throws IOException {
        if (!Files.exists(file)) {
            return new ModelHistory(file, 0, GENESIS);
        }
        List<Entry> entries = read(file);
        if (entries.isEmpty()) {
            return new ModelHistory(file, 0, GENESIS);
        }
        Entry last = entries.get(entries.size() - 1);
        return new ModelHistory(file, last.index() + 1, last.hash());
    }

    /** The log file. */
    public Path file() {
        return file;
    }

    /** The hash of the last entry, or {@link #GENESIS} when there is none. */
    public String head() {
        return head;
    }

    /** The index the next entry gets, which is also the number of entries. */
    public long size() {
        return nextIndex;
    }

    /** Appends one entry and forces it to disk before returning it. */
    public Entry append(Evaluation e) throws IOException {
        Objects.requireNonNull(e.configHash(), "configHash");
        Objects.requireNonNull(e.contributors(), "contributors");
        Objects.requireNonNull(e.time(), "time");
        requireHex64(e.checkpointSha256(), "checkpointSha256");
        String pathProblem = checkpointPathProblem(e.checkpoint());
        if (pathProblem != null) {
            throw new IllegalArgumentException(pathProblem);
        }
        requireFinite(e.loss(), "loss");
        requireFinite(e.accuracy(), "accuracy");
        Map<String, Double> contributors = new TreeMap<>();
        for (Map.Entry<String, Double> c : e.contributors().entrySet()) {
            if (!CONTRIBUTOR_ID.matcher(c.getKey()).matches()) {
                throw new IllegalArgumentException("contributor id " + Json.quote(c.getKey())
                        + " must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
            }
            requireFinite(c.getValue(), "share of contributor " + c.getKey());
            contributors.put(c.getKey(), c.getValue());
        }
        Entry draft = new Entry(nextIndex, e.version(), head, e.checkpoint(), e.checkpointSha256(), e.configHash(),
                Collections.unmodifiableMap(contributors), e.loss(), e.accuracy(), e.time(), null);
        String body = canonicalWithoutHash(draft);
        String hash = sha256Hex(Json.utf8(body));
        String line = body.substring(0, body.length() - 1) + HASH_MEMBER + hash + "\"}\n";
        boolean created = !Files.exists(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap(Json.utf8(line));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        if (created) {
            Safetensors.forceDirectory(file.toAbsolutePath().getParent());
        }
        Entry entry = new Entry(draft.index(), draft.version(), draft.parent(), draft.checkpoint(),
                draft.checkpointSha256(), draft.configHash(), draft.contributors(), draft.loss(), draft.accuracy(),
                draft.time(), hash);
        nextIndex++;
        head = hash;
        return entry;
    }

    /**
     * Reads every entry, checking each line's form but not the hashes or links ({@link #verify} does).
     * A malformed line is a {@link CheckpointException} naming the file and the line.
     */
    public static List<Entry> read(Path file) throws IOException {
        Lines lines = lines(file);
        List<Entry> entries = new ArrayList<>(lines.lines().size());
        for (int i = 0; i < lines.lines().size(); i++) {
            try {
                entries.add(parseLine(lines.lines().get(i), lines.isOpen(i)));
            } catch (Json.Malformed e) {
                throw new CheckpointException(file, "entry " + i + " (line " + (i + 1) + "): " + e.getMessage());
            }
        }
        return entries;
    }

    /**
     * Checks the whole log: each line's form, that its hash matches its contents, that its parent is
     * the previous entry's hash, that its index is its position, and that its checkpoint file exists
     * and has the recorded SHA-256. Reports the first entry that fails.
     */
    public static VerifyResult verify(Path historyFile) throws IOException {
        Lines lines = lines(historyFile);
        Path dir = historyFile.toAbsolutePath().getParent();
        String parent = GENESIS;
        for (int i = 0; i < lines.lines().size(); i++) {
            byte[] raw = lines.lines().get(i);
            Entry entry;
            try {
                entry = parseLine(raw, lines.isOpen(i));
            } catch (Json.Malformed e) {
                return VerifyResult.failed(historyFile, i, e.getMessage());
            }
            String text = Json.utf8OrNull(raw, 0, raw.length);
            String computed = sha256Hex(Json.utf8(text.substring(0, text.length() - HASH_SUFFIX_LENGTH) + "}"));
            if (!computed.equals(entry.hash())) {
                return VerifyResult.failed(historyFile, i, "hash " + entry.hash() + " does not match the entry's"
                        + " contents, which hash to " + computed + " (the entry was changed)");
            }
            if (!entry.parent().equals(parent)) {
                return VerifyResult.failed(historyFile, i, "parent " + entry.parent() + " is not the previous entry's"
                        + " hash " + parent + " (an entry before it was removed, inserted or reordered)");
            }
            if (entry.index() != i) {
                return VerifyResult.failed(historyFile, i, "index " + entry.index() + " but it is entry " + i);
            }
            Path checkpoint = dir.resolve(entry.checkpoint());
            if (!Files.isRegularFile(checkpoint)) {
                return VerifyResult.failed(historyFile, i, "checkpoint " + entry.checkpoint() + " is missing");
            }
            String actual = Checkpoint.sha256(checkpoint);
            if (!actual.equals(entry.checkpointSha256())) {
                return VerifyResult.failed(historyFile, i, "checkpoint " + entry.checkpoint() + " has SHA-256 " + actual
                        + " but the entry records " + entry.checkpointSha256() + " (the checkpoint was changed)");
            }
            parent = entry.hash();
        }
        return VerifyResult.ok(lines.lines().size(), parent);
    }

    /** The canonical text of {@code e} without its hash member (see the class comment). */
    static String canonicalWithoutHash(Entry e) {
        StringBuilder sb = new StringBuilder(256 + 32 * e.contributors().size());
        sb.append("{\"index\":").append(Long.toString(e.index()));
        sb.append(",\"version\":").append(Long.toString(e.version()));
        sb.append(",\"parent\":");
        Json.quote(sb, e.parent());
        sb.append(",\"checkpoint\":");
        Json.quote(sb, e.checkpoint());
        sb.append(",\"checkpointSha256\":");
        Json.quote(sb, e.checkpointSha256());
        sb.append(",\"configHash\":");
        Json.quote(sb, e.configHash());
        sb.append(",\"contributors\":{");
        boolean first = true;
        for (Map.Entry<String, Double> c : e.contributors().entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            Json.quote(sb, c.getKey());
            sb.append(':').append(Double.toString(c.getValue()));
        }
        sb.append("},\"loss\":").append(Double.toString(e.loss()));
        sb.append(",\"accuracy\":").append(Double.toString(e.accuracy()));
        sb.append(",\"time\":");
        Json.quote(sb, e.time().toString());
        sb.append('}');
        return sb.toString();
    }

    /** Parses one line (without its newline) in canonical form; anything else is malformed. */
    private static Entry parseLine(byte[] raw, boolean missingNewline) throws Json.Malformed {
        if (missingNewline) {
            throw new Json.Malformed("the last line has no newline (an append was interrupted?)");
        }
        if (raw.length == 0) {
            throw new Json.Malformed("empty line");
        }
        String text = Json.utf8OrNull(raw, 0, raw.length);
        if (text == null) {
            throw new Json.Malformed("not valid UTF-8");
        }
        Json.Parser p = new Json.Parser(text);
        p.expect("{\"index\":");
        long index = longValue(p, "index");
        p.expect(",\"version\":");
        long version = longValue(p, "version");
        p.expect(",\"parent\":");
        String parent = hex64(p, "parent");
        p.expect(",\"checkpoint\":");
        int at = p.pos();
        String checkpoint = string(p, "checkpoint");
        String pathProblem = checkpointPathProblem(checkpoint);
        if (pathProblem != null) {
            throw new Json.Malformed("at character " + at + ": " + pathProblem);
        }
        p.expect(",\"checkpointSha256\":");
        String checkpointSha = hex64(p, "checkpointSha256");
        p.expect(",\"configHash\":");
        String configHash = string(p, "configHash");
        p.expect(",\"contributors\":{");
        Map<String, Double> contributors = new LinkedHashMap<>();
        String previous = null;
        while (p.atEnd() || p.peek() != '}') {
            if (previous != null) {
                p.expect(",");
            }
            at = p.pos();
            String id = string(p, "contributor id");
            if (!CONTRIBUTOR_ID.matcher(id).matches()) {
                throw new Json.Malformed("at character " + at + ": contributor id " + Json.quote(id)
                        + " is not 1 to 64 characters of A-Z a-z 0-9 . _ -");
            }
            if (previous != null && previous.compareTo(id) >= 0) {
                throw new Json.Malformed("at character " + at + ": contributor " + Json.quote(id)
                        + " is not after " + Json.quote(previous) + " in ASCII order");
            }
            p.expect(":");
            contributors.put(id, doubleValue(p, "share of " + id));
            previous = id;
        }
        p.expect("},\"loss\":");
        double loss = doubleValue(p, "loss");
        p.expect(",\"accuracy\":");
        double accuracy = doubleValue(p, "accuracy");
        p.expect(",\"time\":");
        at = p.pos();
        String timeText = string(p, "time");
        Instant time;
        try {
            time = Instant.parse(timeText);
        } catch (DateTimeParseException e) {
            throw new Json.Malformed("at character " + at + ": time " + Json.quote(timeText)
                    + " is not an ISO-8601 instant");
        }
        p.expect(",\"hash\":");
        String hash = hex64(p, "hash");
        p.expect("}");
        if (!p.atEnd()) {
            throw p.error("unexpected " + p.describe() + " after the entry");
        }
        return new Entry(index, version, parent, checkpoint, checkpointSha, configHash,
                Collections.unmodifiableMap(contributors), loss, accuracy, time, hash);
    }

    private static long longValue(Json.Parser p, String field) throws Json.Malformed {
        int at = p.pos();
        Json.Num n = p.number();
        try {
            long v = Long.parseLong(n.text());
            if (Long.toString(v).equals(n.text())) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new Json.Malformed("at character " + at + ": " + field + " " + n.text() + " is not a canonical integer");
    }

    private static double doubleValue(Json.Parser p, String field) throws Json.Malformed {
        int at = p.pos();
        Json.Num n = p.number();
        double v = Double.parseDouble(n.text());
        if (!Double.isFinite(v)) {
            throw new Json.Malformed("at character " + at + ": " + field + " " + n.text() + " is out of range");
        }
        return v;
    }

    /** A string written exactly as {@link Json#quote} writes it. */
    private static String string(Json.Parser p, String field) throws Json.Malformed {
        int at = p.pos();
        if (p.atEnd() || p.peek() != '"') {
            throw p.error("expected the " + field + " string but found " + p.describe());
        }
        String s = p.string();
        int length = p.pos() - at;
        if (Json.quote(s).length() != length) {
            throw new Json.Malformed("at character " + at + ": " + field + " is not in canonical JSON escaping");
        }
        return s;
    }

    private static String hex64(Json.Parser p, String field) throws Json.Malformed {
        int at = p.pos();
        String s = string(p, field);
        if (!isHex64(s)) {
            throw new Json.Malformed("at character " + at + ": " + field + " is not 64 lowercase hex digits");
        }
        return s;
    }

    private static boolean isHex64(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static void requireHex64(String s, String field) {
        if (s == null || !isHex64(s)) {
            throw new IllegalArgumentException(field + " must be 64 lowercase hex digits, got " + s);
        }
    }

    private static void requireFinite(double v, String field) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(field + " must be a finite number to be recorded, got " + v);
        }
    }

    /** Why {@code path} cannot name a checkpoint next to the history, or null when it can. */
    static String checkpointPathProblem(String path) {
        if (path == null || path.isEmpty()) {
            return "checkpoint path is empty";
        }
        if (path.startsWith("/") || path.contains("\\") || path.contains(":")) {
            return "checkpoint path " + Json.quote(path) + " must be relative, with '/' separators";
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "checkpoint path " + Json.quote(path) + " has an empty, '.' or '..' segment";
            }
            for (int i = 0; i < segment.length(); i++) {
                if (segment.charAt(i) < 0x20) {
                    return "checkpoint path " + Json.quote(path) + " has a control character";
                }
            }
        }
        return null;
    }

    static String sha256Hex(byte[] bytes) {
        return HEX.formatHex(Checkpoint.sha256().digest(bytes));
    }

    /** A file's lines without their newlines; {@code lastOpen} when the final one has none. */
    private record Lines(List<byte[]> lines, boolean lastOpen) {
        boolean isOpen(int i) {
            return lastOpen && i == lines.size() - 1;
        }
    }

    private static Lines lines(Path file) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file");
        }
        List<byte[]> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < all.length; i++) {
            if (all[i] == '\n') {
                lines.add(Arrays.copyOfRange(all, start, i));
                start = i + 1;
            }
        }
        boolean open = start < all.length;
        if (open) {
            lines.add(Arrays.copyOfRange(all, start, all.length));
        }
        return new Lines(lines, open);
    }
}
