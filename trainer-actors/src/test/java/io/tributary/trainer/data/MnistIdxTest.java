package io.tributary.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class MnistIdxTest {
    private static final int ROWS = 3;
    private static final int COLS = 2;
    private static final byte[] LABELS = {0, 9, 4, 1, 7};

    @TempDir
    Path dir;

    @Test
    void trainFilesRoundTripWithPixelsScaledToUnitRange() throws IOException {
        byte[] pixels = pixels(LABELS.length);
        write(MnistIdx.TRAIN_IMAGES, imageFile(LABELS.length, ROWS, COLS, pixels));
        write(MnistIdx.TRAIN_LABELS, labelFile(LABELS));

        Dataset train = MnistIdx.loadTrain(dir);

        assertEquals("mnist-train", train.name());
        assertEquals(LABELS.length, train.count());
        assertEquals(ROWS * COLS, train.features());
        assertEquals(10, train.classes());
        for (int i = 0; i < pixels.length; i++) {
            assertEquals((pixels[i] & 0xff) / 255f, train.featureValues()[i], 0f, "pixel " + i);
        }
        for (int i = 0; i < LABELS.length; i++) {
            assertEquals(LABELS[i], train.label(i));
        }
        assertEquals(0f, min(train.featureValues()));
        assertEquals(1f, max(train.featureValues()));
    }

    @Test
    void testFilesAreReadFromTheirOwnNames() throws IOException {
        write(MnistIdx.TEST_IMAGES, imageFile(2, 1, 1, new byte[] {0, (byte) 255}));
        write(MnistIdx.TEST_LABELS, labelFile(new byte[] {3, 5}));

        Dataset test = MnistIdx.loadTest(dir);

        assertEquals("mnist-test", test.name());
        assertArrayEquals(new float[] {0f, 1f}, test.featureValues());
        assertArrayEquals(new float[] {3f, 5f}, test.labels());
    }

    @Test
    void gzipVariantsAreReadWhenThePlainFilesAreAbsent() throws IOException {
        byte[] pixels = pixels(LABELS.length);
        write(MnistIdx.TRAIN_IMAGES + ".gz", gzip(imageFile(LABELS.length, ROWS, COLS, pixels)));
        write(MnistIdx.TRAIN_LABELS + ".gz", gzip(labelFile(LABELS)));

        Dataset train = MnistIdx.loadTrain(dir);

        assertEquals(LABELS.length, train.count());
        assertEquals((pixels[7] & 0xff) / 255f, train.featureValues()[7], 0f);
        assertEquals(9, train.label(1));
    }

    @Test
    void badMagicNumberIsRejected() throws IOException {
        byte[] images = imageFile(LABELS.length, ROWS, COLS, pixels(LABELS.length));
        images[2] = 0x0D; // float element type instead of unsigned byte
        write(MnistIdx.TRAIN_IMAGES, images);
        write(MnistIdx.TRAIN_LABELS, labelFile(LABELS));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_IMAGES);

        assertTrue(message.contains("bad magic number 0x00000D03"), message);
    }

    @Test
    void labelFileInPlaceOfImageFileIsNamedAsSuch() throws IOException {
        write(MnistIdx.TRAIN_IMAGES, labelFile(LABELS));
        write(MnistIdx.TRAIN_LABELS, labelFile(LABELS));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_IMAGES);

        assertTrue(message.contains("is a label file"), message);
    }

    @Test
    void gzipDataWithoutGzSuffixGetsARenameHint() throws IOException {
        write(MnistIdx.TRAIN_IMAGES, gzip(imageFile(LABELS.length, ROWS, COLS, pixels(LABELS.length))));
        write(MnistIdx.TRAIN_LABELS, labelFile(LABELS));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_IMAGES);

        assertTrue(message.contains("gzip"), message);
    }

    @Test
    void truncatedImageFileReportsDeclaredAndActualSize() throws IOException {
        byte[] full = imageFile(LABELS.length, ROWS, COLS, pixels(LABELS.length));
        write(MnistIdx.TRAIN_IMAGES, Arrays.copyOf(full, full.length - 4));
        write(MnistIdx.TRAIN_LABELS, labelFile(LABELS));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_IMAGES);

        assertTrue(message.contains("truncated: header says 5 images of 3x2 (46 bytes) but the file has 42 bytes"),
                message);
        assertTrue(message.contains("scripts/fetch-mnist.sh"), message);
    }

    @Test
    void fileShorterThanItsHeaderIsTruncated() throws IOException {
        write(MnistIdx.TRAIN_IMAGES, new byte[] {0, 0, 8, 3, 0, 0});
        write(MnistIdx.TRAIN_LABELS, labelFile(LABELS));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_IMAGES);

        assertTrue(message.contains("truncated"), message);
    }

    @Test
    void truncatedGzipImageFileIsReported() throws IOException {
        byte[] full = imageFile(LABELS.length, ROWS, COLS, pixels(LABELS.length));
        write(MnistIdx.TRAIN_IMAGES + ".gz", gzip(Arrays.copyOf(full, full.length - 4)));
        write(MnistIdx.TRAIN_LABELS, labelFile(LABELS));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_IMAGES + ".gz");

        assertTrue(message.contains("truncated"), message);
    }

    @Test
    void fileLongerThanItsHeaderSaysIsRejected() throws IOException {
        write(MnistIdx.TRAIN_IMAGES, imageFile(LABELS.length, ROWS, COLS, pixels(LABELS.length)));
        byte[] labels = labelFile(LABELS);
        write(MnistIdx.TRAIN_LABELS, Arrays.copyOf(labels, labels.length + 1));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_LABELS);

        assertTrue(message.contains("too long"), message);
    }

    @Test
    void gzipFileLongerThanItsHeaderSaysIsRejected() throws IOException {
        byte[] images = imageFile(LABELS.length, ROWS, COLS, pixels(LABELS.length));
        write(MnistIdx.TRAIN_IMAGES + ".gz", gzip(Arrays.copyOf(images, images.length + 3)));
        write(MnistIdx.TRAIN_LABELS, labelFile(LABELS));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_IMAGES + ".gz");

        assertTrue(message.contains("too long"), message);
    }

    @Test
    void imageAndLabelCountMismatchNamesBothFiles() throws IOException {
        write(MnistIdx.TRAIN_IMAGES, imageFile(LABELS.length, ROWS, COLS, pixels(LABELS.length)));
        write(MnistIdx.TRAIN_LABELS, labelFile(Arrays.copyOf(LABELS, 4)));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_LABELS);

        assertTrue(message.contains("has 4 labels"), message);
        assertTrue(message.contains(dir.resolve(MnistIdx.TRAIN_IMAGES).toString()), message);
    }

    @Test
    void labelOutsideZeroToNineIsRejectedWithItsIndex() throws IOException {
        byte[] labels = LABELS.clone();
        labels[3] = 10;
        write(MnistIdx.TRAIN_IMAGES, imageFile(LABELS.length, ROWS, COLS, pixels(LABELS.length)));
        write(MnistIdx.TRAIN_LABELS, labelFile(labels));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_LABELS);

        assertTrue(message.contains("label 10 at index 3"), message);
    }

    @Test
    void zeroSizedDimensionIsRejected() throws IOException {
        write(MnistIdx.TRAIN_IMAGES, imageFile(LABELS.length, 0, COLS, new byte[0]));
        write(MnistIdx.TRAIN_LABELS, labelFile(LABELS));

        String message = failure(() -> MnistIdx.loadTrain(dir), MnistIdx.TRAIN_IMAGES);

        assertTrue(message.contains("dimension 1 of size 0"), message);
    }

    @Test
    void missingDirectoryTellsToRunTheFetchScript() {
        Path missing = dir.resolve("nowhere");

        String message = failure(() -> MnistIdx.loadTrain(missing), missing.toString());

        assertTrue(message.contains("does not exist"), message);
        assertTrue(message.contains("scripts/fetch-mnist.sh"), message);
        assertTrue(message.contains("--data"), message);
    }

    @Test
    void pathThatIsAFileIsNotADirectory() throws IOException {
        Path file = write("plain-file", new byte[1]);

        String message = failure(() -> MnistIdx.loadTest(file), file.toString());

        assertTrue(message.contains("not a directory"), message);
    }

    @Test
    void missingFileTellsToRunTheFetchScript() throws IOException {
        write(MnistIdx.TEST_IMAGES, imageFile(2, 1, 1, new byte[] {1, 2}));

        String message = failure(() -> MnistIdx.loadTest(dir), MnistIdx.TEST_LABELS);

        assertTrue(message.contains("missing"), message);
        assertTrue(message.contains("scripts/fetch-mnist.sh"), message);
    }

    /** Runs {@code load}, expects a one-line DataFormatException naming {@code fileName}; returns its message. */
    private static String failure(Executable load, String fileName) {
        DataFormatException e = assertThrows(DataFormatException.class, load);
        String message = e.getMessage();
        assertTrue(message.contains(fileName), () -> "message should name " + fileName + ": " + message);
        assertFalse(message.contains("\n") || message.contains("\r"), () -> "message should be one line: " + message);
        return message;
    }

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private static byte[] pixels(int count) {
        byte[] pixels = new byte[count * ROWS * COLS];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 37);
        }
        pixels[0] = 0;
        pixels[1] = (byte) 255;
        return pixels;
    }

    static byte[] imageFile(int count, int rows, int cols, byte[] pixels) {
        return ByteBuffer.allocate(16 + pixels.length)
                .putInt(MnistIdx.IMAGE_MAGIC).putInt(count).putInt(rows).putInt(cols).put(pixels)
                .array();
    }

    static byte[] labelFile(byte[] labels) {
        return ByteBuffer.allocate(8 + labels.length).putInt(MnistIdx.LABEL_MAGIC).putInt(labels.length).put(labels)
                .array();
    }

    private static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(content);
        }
        return bytes.toByteArray();
    }

    private static float min(float[] values) {
        float m = Float.MAX_VALUE;
        for (float v : values) {
            m = Math.min(m, v);
        }
        return m;
    }

    private static float max(float[] values) {
        float m = -Float.MAX_VALUE;
        for (float v : values) {
            m = Math.max(m, v);
        }
        return m;
    }
}
