package io.tributary.trainer.gpt;

import io.tributary.trainer.data.DataFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A text as a character-level corpus: the vocabulary is the sorted set of the text's characters
 * (Unicode code points), the first 90% of the characters train and the rest validate. Batches are
 * windows at random offsets: the targets are the inputs shifted by one character.
 */
public final class CharCorpus {

    /** The share of the text's characters that trains; the rest validates. */
    public static final double TRAIN_SHARE = 0.9;

    private final int[] vocabulary;
    private final int[] tokens;
    private final int split;
    private final String name;

    CharCorpus(String name, String text) {
        this.name = name;
        int[] points = text.codePoints().toArray();
        TreeSet<Integer> set = new TreeSet<>();
        for (int p : points) {
            set.add(p);
        }
        vocabulary = set.stream().mapToInt(Integer::intValue).toArray();
        tokens = new int[points.length];
        for (int i = 0; i < points.length; i++) {
            tokens[i] = java.util.Arrays.binarySearch(vocabulary, points[i]);
        }
        split = (int) (points.length * TRAIN_SHARE);
    }

    /**
     * The directory of the GPT's {@code data.txt}: {@code tributary.gpt.dir}, else {@code tributary.data.dir}
     * (the {@code --data} flag), else {@code $TRIBUTARY_DATA/moby-dick}, else {@code ~/.cache/tributary/moby-dick}
     * (where scripts/fetch-moby-dick.sh puts it).
     */
    public static Path dataDir(com.typesafe.config.Config config) {
        String dir = config.getString("tributary.gpt.dir");
        if (dir.isEmpty()) {
            dir = config.getString("tributary.data.dir");
        }
        if (!dir.isEmpty()) {
            return Path.of(dir);
        }
        String root = System.getenv("TRIBUTARY_DATA");
        return root != null && !root.isEmpty() ? Path.of(root, "moby-dick")
                : Path.of(System.getProperty("user.home"), ".cache", "tributary", "moby-dick");
    }

    /** Reads a UTF-8 text file; a missing, unreadable, malformed or too short file is refused saying so. */
    public static CharCorpus load(Path file, int context) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file + " does not exist: run scripts/fetch-moby-dick.sh (bin/tributary does"
                    + " so for you) or pass --data with the directory that holds data.txt", e);
        } catch (IOException e) {
            throw new DataFormatException("cannot read " + file + ": " + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file + " is not UTF-8 text (" + e.getMessage() + "): the GPT model trains on"
                    + " a UTF-8 text file", e);
        }
        CharCorpus corpus = new CharCorpus(file.getFileName().toString(), text);
        if (corpus.validationLength() <= context || corpus.trainLength() <= context) {
            throw new DataFormatException(file + " has " + corpus.tokens.length + " characters: too few for windows of "
                    + context + " in both its training 90% and its validation 10%");
        }
        return corpus;
    }

    public String name() {
        return name;
    }

    /** Characters in the vocabulary. */
    public int vocabularySize() {
        return vocabulary.length;
    }

    public int length() {
        return tokens.length;
    }

    public int trainLength() {
        return split;
    }

    public int validationLength() {
        return tokens.length - split;
    }

    /** The token of character {@code codePoint}, or -1 when the vocabulary lacks it. */
    public int encode(int codePoint) {
        int i = java.util.Arrays.binarySearch(vocabulary, codePoint);
        return i >= 0 ? i : -1;
    }

    /** The character of {@code token}. */
    public int decode(int token) {
        return vocabulary[token];
    }

    /** The vocabulary's characters in token order (a copy). */
    public int[] vocabulary() {
        return vocabulary.clone();
    }

    /**
     * Fills {@code batch} windows of the training part at offsets drawn from {@code random}
     * (uniform over [0, train length − context)): {@code ids} the characters, {@code targets} the
     * next ones, as floats. Allocates nothing.
     */
    public void trainingBatch(SplittableRandom random, int batch, int context, float[] ids, float[] targets) {
        trainingBatch(random, batch, context, ids, targets, 0);
    }

    /** As {@link #trainingBatch(SplittableRandom, int, int, float[], float[])}, written from {@code at}. */
    public void trainingBatch(SplittableRandom random, int batch, int context, float[] ids, float[] targets, int at) {
        for (int b = 0; b < batch; b++) {
            int start = random.nextInt(split - context);
            window(start, context, ids, targets, at + b * context);
        }
    }

    /** Offsets of {@code count} windows of the validation part, fixed by {@code seed}. */
    public int[] validationOffsets(int count, int context, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = split + random.nextInt(validationLength() - context);
        }
        return out;
    }

    /** Writes the window at absolute offset {@code start} into {@code ids}/{@code targets} from {@code at}. */
    public void window(int start, int context, float[] ids, float[] targets, int at) {
        for (int t = 0; t < context; t++) {
            ids[at + t] = tokens[start + t];
            targets[at + t] = tokens[start + t + 1];
        }
    }
}
