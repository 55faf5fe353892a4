package io.tributary.trainer.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the MNIST data set from its original IDX files (plain, or {@code .gz} when only
 * the compressed file is present) and checks them strictly: magic numbers, dimensions,
 * exact file length, matching image and label counts, labels in 0..9.
 *
 * <p>IDX layout, all integers big-endian: a 4-byte magic {@code 0x0000TTDD} (TT = element
 * type, 0x08 for unsigned bytes; DD = number of dimensions), then one 4-byte size per
 * dimension, then the elements in row-major order. Image files are 3-dimensional
 * (count, rows, columns), label files 1-dimensional (count).
 */
public final class MnistIdx {
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    public static final int CLASSES = 10;

    static final int IMAGE_MAGIC = 0x00000803;
    static final int LABEL_MAGIC = 0x00000801;

    private static final int UNSIGNED_BYTE_TYPE = 0x08;
    private static final int GZIP_SIGNATURE = 0x1f8b;
    private static final int READ_CHUNK = 64 * 1024;
    private static final String FETCH = "run scripts/fetch-mnist.sh (or pass --data DIR holding the MNIST IDX files)";
    private static final String REFETCH = "re-run scripts/fetch-mnist.sh";

    private static final Logger LOG = LoggerFactory.getLogger(MnistIdx.class);

    /** Pixel byte to [0, 1] float, once, instead of a division per pixel. */
    private static final float[] PIXEL_SCALE = new float[256];

    static {
        for (int i = 0; i < PIXEL_SCALE.length; i++) {
            PIXEL_SCALE[i] = i / 255f;
        }
    }

    private MnistIdx() {
    }

    /**
     * Where {@code scripts/fetch-mnist.sh} puts the files by default:
     * {@code $TRIBUTARY_DATA/mnist}, or {@code ~/.cache/tributary/mnist}.
     */
    public static Path defaultDirectory() {
        String root = System.getenv("TRIBUTARY_DATA");
        Path base = root != null && !root.isBlank()
                ? Paths.get(root)
                : Paths.get(System.getProperty("user.home"), ".cache", "tributary");
        return base.resolve("mnist");
    }

    /** The 60,000 training images and labels from {@code dir}. */
    public static Dataset loadTrain(Path dir) {
        return load(dir, TRAIN_IMAGES, TRAIN_LABELS, "mnist-train");
    }

    /** The 10,000 test images and labels from {@code dir}. */
    public static Dataset loadTest(Path dir) {
        return load(dir, TEST_IMAGES, TEST_LABELS, "mnist-test");
    }

    private static Dataset load(Path dir, String imagesName, String labelsName, String datasetName) {
        long started = System.nanoTime();
        checkDirectory(dir);
        Path imagesPath = locate(dir, imagesName);
        Path labelsPath = locate(dir, labelsName);
        try (IdxFile images = IdxFile.open(imagesPath); IdxFile labels = IdxFile.open(labelsPath)) {
            images.readHeader(IMAGE_MAGIC, "an image file");
            labels.readHeader(LABEL_MAGIC, "a label file");
            int count = images.dims[0];
            int rows = images.dims[1];
            int cols = images.dims[2];
            String imagesWhat = count + " images of " + rows + "x" + cols;
            String labelsWhat = labels.dims[0] + " labels";
            images.checkLength(imagesWhat);
            labels.checkLength(labelsWhat);
            if (labels.dims[0] != count) {
                throw new DataFormatException(labelsPath + ": has " + labels.dims[0] + " labels but " + imagesPath
                        + " has " + count + " images; the two files must belong together, " + REFETCH);
            }
            float[] y = labels.readLabels(labelsWhat);
            float[] x = images.readPixels(imagesWhat);
            Dataset dataset = new Dataset(datasetName, count, rows * cols, CLASSES, x, y);
            LOG.info("Loaded {} from {} in {} ms", dataset, dir, (System.nanoTime() - started) / 1_000_000);
            return dataset;
        }
    }

    private static void checkDirectory(Path dir) {
        if (dir == null) {
            throw new DataFormatException("no MNIST data directory given; " + FETCH);
        }
        if (!Files.exists(dir)) {
            throw new DataFormatException(dir + ": MNIST data directory does not exist; " + FETCH);
        }
        if (!Files.isDirectory(dir)) {
            throw new DataFormatException(dir + ": not a directory; pass --data with the directory that holds "
                    + TRAIN_IMAGES + " and the other MNIST IDX files");
        }
    }

    /** The plain file if present, else its {@code .gz} variant. */
    private static Path locate(Path dir, String name) {
        Path plain = dir.resolve(name);
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        Path gzip = dir.resolve(name + ".gz");
        if (Files.isRegularFile(gzip)) {
            return gzip;
        }
        throw new DataFormatException(plain + ": missing (no .gz variant either); " + FETCH);
    }

    /** One open IDX file; knows its own path so every error can name it. */
    private static final class IdxFile implements AutoCloseable {
        private final Path path;
        private final boolean gzip;
        private final long fileSize;
        private final InputStream in;
        private int[] dims;
        private int headerBytes;
        private long payloadBytes;

        private IdxFile(Path path, boolean gzip, long fileSize, InputStream in) {
            this.path = path;
            this.gzip = gzip;
            this.fileSize = fileSize;
            this.in = in;
        }

        static IdxFile open(Path path) {
            boolean gzip = path.getFileName().toString().endsWith(".gz");
            InputStream raw = null;
            try {
                long size = Files.size(path);
                raw = new BufferedInputStream(Files.newInputStream(path), READ_CHUNK);
                InputStream in = gzip ? new GZIPInputStream(raw, READ_CHUNK) : raw;
                return new IdxFile(path, gzip, size, in);
            } catch (NoSuchFileException e) {
                closeQuietly(raw);
                throw new DataFormatException(path + ": missing; " + FETCH, e);
            } catch (IOException e) {
                closeQuietly(raw);
                throw new DataFormatException(path + ": " + (gzip ? "not valid gzip data" : "cannot be opened")
                        + " (" + e + "); " + (gzip ? REFETCH : "check that it is readable"), e);
            }
        }

        void readHeader(int expectedMagic, String expectedKind) {
            byte[] magicBytes = new byte[4];
            int got = read(magicBytes, 0, 4);
            if (got < 4) {
                throw new DataFormatException(path + ": truncated: " + describeSize(got)
                        + ", shorter than the IDX header; " + REFETCH);
            }
            int magic = bigEndianInt(magicBytes, 0);
            if (magic != expectedMagic) {
                throw new DataFormatException(path + ": " + explainBadMagic(magic, expectedMagic, expectedKind));
            }
            int dimCount = magic & 0xff;
            byte[] dimBytes = new byte[4 * dimCount];
            got = read(dimBytes, 0, dimBytes.length);
            headerBytes = 4 + dimBytes.length;
            if (got < dimBytes.length) {
                throw new DataFormatException(path + ": truncated: " + describeSize(4 + got) + ", shorter than its "
                        + headerBytes + "-byte IDX header; " + REFETCH);
            }
            dims = new int[dimCount];
            long elements = 1;
            for (int d = 0; d < dimCount; d++) {
                dims[d] = bigEndianInt(dimBytes, 4 * d);
                if (dims[d] <= 0) {
                    throw new DataFormatException(path + ": header declares dimension " + d + " of size " + dims[d]
                            + ", must be positive; the file is corrupt, " + REFETCH);
                }
                elements *= dims[d];
                if (elements > Integer.MAX_VALUE - 8) {
                    throw new DataFormatException(path + ": header declares more than " + (Integer.MAX_VALUE - 8)
                            + " elements, which is not MNIST; the file is corrupt, " + REFETCH);
                }
            }
            payloadBytes = elements;
        }

        private String explainBadMagic(int magic, int expectedMagic, String expectedKind) {
            String expected = String.format("0x%08X", expectedMagic);
            if ((magic >>> 16) == GZIP_SIGNATURE && !gzip) {
                return "gzip-compressed data in a file without a .gz suffix; gunzip it or rename it to "
                        + path.getFileName() + ".gz";
            }
            if (magic == IMAGE_MAGIC || magic == LABEL_MAGIC) {
                String actualKind = magic == IMAGE_MAGIC ? "an image file" : "a label file";
                return "is " + actualKind + String.format(" (magic 0x%08X)", magic) + " where " + expectedKind
                        + " (" + expected + ") was expected; check the file names";
            }
            if ((magic >>> 16) != 0) {
                return String.format("bad magic number 0x%08X, expected %s: not an IDX file; %s",
                        magic, expected, REFETCH);
            }
            int type = (magic >>> 8) & 0xff;
            if (type != UNSIGNED_BYTE_TYPE) {
                return String.format("bad magic number 0x%08X: element type 0x%02X, expected unsigned byte 0x%02X (%s); %s",
                        magic, type, UNSIGNED_BYTE_TYPE, expected, REFETCH);
            }
            return String.format("bad magic number 0x%08X: %d dimensions, expected %d (%s) for %s; %s",
                    magic, magic & 0xff, expectedMagic & 0xff, expected, expectedKind, REFETCH);
        }

        /** For plain files the length is known up front: fail before reading megabytes. */
        void checkLength(String what) {
            if (gzip) {
                return;
            }
            long expected = headerBytes + payloadBytes;
            if (fileSize < expected) {
                throw new DataFormatException(path + ": truncated: header says " + what + " (" + expected
                        + " bytes) but the file has " + fileSize + " bytes; " + REFETCH);
            }
            if (fileSize > expected) {
                throw new DataFormatException(path + ": too long: header says " + what + " (" + expected
                        + " bytes) but the file has " + fileSize + " bytes; " + REFETCH);
            }
        }

        float[] readLabels(String what) {
            int count = dims[0];
            byte[] bytes = new byte[count];
            readPayload(bytes, 0, count, what);
            checkNoTrailingBytes(what);
            float[] labels = new float[count];
            for (int i = 0; i < count; i++) {
                int label = bytes[i] & 0xff;
                if (label >= CLASSES) {
                    throw new DataFormatException(path + ": label " + label + " at index " + i + " is outside 0.."
                            + (CLASSES - 1) + "; the file is corrupt, " + REFETCH);
                }
                labels[i] = label;
            }
            return labels;
        }

        /** Streams the pixels through one small buffer straight into the float matrix. */
        float[] readPixels(String what) {
            int total = (int) payloadBytes;
            float[] pixels = new float[total];
            byte[] chunk = new byte[READ_CHUNK];
            int done = 0;
            while (done < total) {
                int n = Math.min(chunk.length, total - done);
                readPayload(chunk, done, n, what);
                for (int i = 0; i < n; i++) {
                    pixels[done + i] = PIXEL_SCALE[chunk[i] & 0xff];
                }
                done += n;
            }
            checkNoTrailingBytes(what);
            return pixels;
        }

        /** Reads {@code n} payload bytes that start at payload offset {@code payloadOffset} into {@code buf[0, n)}. */
        private void readPayload(byte[] buf, long payloadOffset, int n, String what) {
            int got = read(buf, 0, n);
            if (got < n) {
                long have = headerBytes + payloadOffset + got;
                throw new DataFormatException(path + ": truncated: header says " + what + " ("
                        + (headerBytes + payloadBytes) + " bytes) but " + describeSize(have) + "; " + REFETCH);
            }
        }

        private void checkNoTrailingBytes(String what) {
            try {
                if (in.read() != -1) {
                    throw new DataFormatException(path + ": too long: header says " + what + " ("
                            + (headerBytes + payloadBytes) + " bytes) but there is more data after that; " + REFETCH);
                }
            } catch (IOException e) {
                throw readFailure(e);
            }
        }

        private String describeSize(long bytes) {
            return (gzip ? "the decompressed data has " : "the file has ") + bytes + " bytes";
        }

        /** Like readNBytes, but turns I/O failures into a message naming this file. */
        private int read(byte[] buf, int off, int len) {
            try {
                return in.readNBytes(buf, off, len);
            } catch (IOException e) {
                throw readFailure(e);
            }
        }

        private DataFormatException readFailure(IOException e) {
            if (gzip) {
                return new DataFormatException(path + ": corrupt or truncated gzip data (" + e + "); " + REFETCH, e);
            }
            return new DataFormatException(path + ": read failed (" + e + "); check the disk and permissions", e);
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException e) {
                // Nothing was written, so a failed close cannot lose data; say so and go on.
                LOG.warn("Closing {} failed: {}", path, e.toString());
            }
        }

        private static void closeQuietly(InputStream in) {
            if (in != null) {
                try {
                    in.close();
                } catch (IOException e) {
                    LOG.warn("Closing a stream after a failed open failed: {}", e.toString());
                }
            }
        }

        private static int bigEndianInt(byte[] b, int off) {
            return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
        }
    }
}
