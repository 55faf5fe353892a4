package io.tributary.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.trainer.data.BatchIterator.PartialBatch;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchIteratorTest {
    private static final long PROPERTY_SEED = 0x5EED_BA7CL;
    private static final Dataset DATA = SyntheticDataset.generate(1000, 5, 3, 11);

    @Test
    void servingPartialBatchesCoversEachIndexExactlyOncePerEpoch() {
        Random random = new Random(PROPERTY_SEED);
        for (int trial = 0; trial < 50; trial++) {
            int parts = 1 + random.nextInt(8);
            int[] partition = Partitioner.partition(DATA.count(), parts, random.nextInt(parts), trial);
            int batchSize = 1 + random.nextInt(70);
            BatchIterator batches = new BatchIterator(DATA, partition, batchSize, PartialBatch.SERVE, trial);
            for (int epoch = 0; epoch < 3; epoch++) {
                String context = "property seed " + PROPERTY_SEED + ", trial " + trial + ", epoch " + epoch
                        + ", batch size " + batchSize + ", partition size " + partition.length;
                batches.startEpoch(epoch);
                int[] seen = sortedRowsOfEpoch(batches, context);
                assertArrayEquals(partition, seen, context);
            }
        }
    }

    @Test
    void droppingPartialBatchesServesOnlyFullBatchesOfDistinctRows() {
        int[] partition = Partitioner.partition(DATA.count(), 3, 1, 5); // 333 rows
        BatchIterator batches = new BatchIterator(DATA, partition, 50, PartialBatch.DROP, 9);

        assertEquals(6, batches.batchesPerEpoch());
        int served = 0;
        boolean[] seen = new boolean[DATA.count()];
        while (batches.next()) {
            assertEquals(50, batches.size());
            for (int i = 0; i < batches.size(); i++) {
                assertFalse(seen[batches.row(i)], "row served twice: " + batches.row(i));
                seen[batches.row(i)] = true;
            }
            served++;
        }
        assertEquals(6, served);
        assertFalse(batches.next(), "an exhausted epoch stays exhausted");
    }

    @Test
    void batchContentsAreTheDatasetRowsNamedByRow() {
        BatchIterator batches = new BatchIterator(DATA, Partitioner.partition(DATA.count(), 2, 0, 3), 16,
                PartialBatch.SERVE, 4);
        int f = DATA.features();
        while (batches.next()) {
            for (int i = 0; i < batches.size(); i++) {
                int row = batches.row(i);
                assertArrayEquals(Arrays.copyOfRange(DATA.featureValues(), row * f, (row + 1) * f),
                        Arrays.copyOfRange(batches.features(), i * f, (i + 1) * f));
                assertEquals(DATA.labels()[row], batches.labels()[i]);
            }
        }
    }

    @Test
    void orderChangesEachEpochAndRepeatsForTheSameSeedAndEpoch() {
        int[] partition = Partitioner.partition(DATA.count(), 1, 0);
        BatchIterator a = new BatchIterator(DATA, partition, 32, PartialBatch.SERVE, 77);
        BatchIterator b = new BatchIterator(DATA, partition, 32, PartialBatch.SERVE, 77);

        List<Integer> epoch0 = rowsInOrder(a);
        a.nextEpoch();
        List<Integer> epoch1 = rowsInOrder(a);
        b.startEpoch(1);

        assertEquals(1, a.epoch());
        assertNotEquals(epoch0, epoch1);
        assertEquals(epoch1, rowsInOrder(b));
        a.startEpoch(0);
        assertEquals(epoch0, rowsInOrder(a));
    }

    @Test
    void buffersAreReusedAndNothingIsAllocatedPerBatch() {
        BatchIterator batches = new BatchIterator(DATA, Partitioner.partition(DATA.count(), 1, 0), 64,
                PartialBatch.SERVE, 1);
        float[] x = batches.features();
        float[] y = batches.labels();
        runEpochs(batches, 2_000); // let the JIT settle first
        assertSame(x, batches.features());
        assertSame(y, batches.labels());

        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(thread);
        int served = runEpochs(batches, 200);
        long allocated = threads.getThreadAllocatedBytes(thread) - before;

        // 3,200 batches: even 16 bytes per batch would show as 51 KB; allow a little for the MXBean itself.
        assertTrue(allocated < 4_096, allocated + " bytes allocated over " + served + " batches");
    }

    @Test
    void impossibleConfigurationsAreRejected() {
        int[] small = {1, 2, 3};
        IllegalArgumentException dropTooSmall = assertThrows(IllegalArgumentException.class,
                () -> new BatchIterator(DATA, small, 10, PartialBatch.DROP, 0));
        assertTrue(dropTooSmall.getMessage().contains("PartialBatch.SERVE"), dropTooSmall.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BatchIterator(DATA, small, 0, PartialBatch.SERVE, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new BatchIterator(DATA, new int[0], 1, PartialBatch.SERVE, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new BatchIterator(DATA, new int[] {DATA.count()}, 1, PartialBatch.SERVE, 0));
    }

    @Test
    void servedBatchCountIncludesThePartialBatch() {
        BatchIterator batches = new BatchIterator(DATA, Partitioner.partition(DATA.count(), 1, 0), 300,
                PartialBatch.SERVE, 0);
        assertEquals(4, batches.batchesPerEpoch());
        int[] sizes = new int[4];
        int n = 0;
        while (batches.next()) {
            assertEquals(n, batches.batchIndex());
            sizes[n++] = batches.size();
        }
        assertArrayEquals(new int[] {300, 300, 300, 100}, sizes);
    }

    private static int runEpochs(BatchIterator batches, int epochs) {
        int served = 0;
        for (int e = 0; e < epochs; e++) {
            batches.startEpoch(e);
            while (batches.next()) {
                served++;
            }
        }
        return served;
    }

    private static int[] sortedRowsOfEpoch(BatchIterator batches, String context) {
        int[] rows = new int[batches.partitionSize()];
        int n = 0;
        int count = 0;
        while (batches.next()) {
            assertTrue(batches.size() == batches.batchSize() || count == batches.batchesPerEpoch() - 1,
                    context + ": only the last batch may be partial");
            for (int i = 0; i < batches.size(); i++) {
                rows[n++] = batches.row(i);
            }
            count++;
        }
        assertEquals(batches.batchesPerEpoch(), count, context);
        assertEquals(rows.length, n, context);
        Arrays.sort(rows);
        return rows;
    }

    private static List<Integer> rowsInOrder(BatchIterator batches) {
        List<Integer> rows = new ArrayList<>();
        while (batches.next()) {
            for (int i = 0; i < batches.size(); i++) {
                rows.add(batches.row(i));
            }
        }
        return rows;
    }
}
