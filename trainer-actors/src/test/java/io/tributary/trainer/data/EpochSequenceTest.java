package io.tributary.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class EpochSequenceTest {

    private static Dataset dataset(int count) {
        float[] x = new float[count * 2];
        float[] y = new float[count];
        for (int i = 0; i < count; i++) {
            x[2 * i] = i;
            y[i] = i % 3;
        }
        return new Dataset("synthetic", count, 2, 3, x, y);
    }

    /**
     * The sequence's slice of partition i in step j is exactly the batch a fixed partition's
     * BatchIterator served: equal work plans train what the fixed partitions trained.
     */
    @Test
    void stepSlicesAreTheFixedPartitionsBatches() {
        int count = 1003;
        int parts = 3;
        int batch = 16;
        long seed = 42;
        int steps = (count / parts) / batch;
        EpochSequence seq = new EpochSequence(count, parts, batch, steps, seed);
        Dataset data = dataset(count);
        for (int epoch = 0; epoch < 3; epoch++) {
            seq.startEpoch(epoch);
            for (int p = 0; p < parts; p++) {
                BatchIterator it = new BatchIterator(data, Partitioner.partition(count, parts, p, seed), batch,
                        BatchIterator.PartialBatch.DROP, seed + p);
                it.startEpoch(epoch);
                for (int j = 0; j < steps; j++) {
                    assertTrue(it.next());
                    for (int k = 0; k < batch; k++) {
                        assertEquals(it.row(k), seq.row(j * parts * batch + p * batch + k),
                                "epoch " + epoch + " partition " + p + " step " + j + " entry " + k);
                    }
                }
            }
        }
    }

    @Test
    void anEpochHoldsDistinctRowsAndEpochsDiffer() {
        EpochSequence seq = new EpochSequence(600, 4, 10, 15, 7);
        seq.startEpoch(0);
        BitSet rows = new BitSet();
        int[] first = new int[seq.length()];
        for (int i = 0; i < seq.length(); i++) {
            assertTrue(!rows.get(seq.row(i)), "row " + seq.row(i) + " twice in one epoch");
            rows.set(seq.row(i));
            first[i] = seq.row(i);
        }
        assertEquals(600, seq.length());
        seq.startEpoch(1);
        int same = 0;
        for (int i = 0; i < seq.length(); i++) {
            same += first[i] == seq.row(i) ? 1 : 0;
        }
        assertTrue(same < 60, same + " of 600 positions hold the same row in epochs 0 and 1");
    }

    @Test
    void tooManyStepsForTheDataAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EpochSequence(100, 2, 10, 6, 1));
        assertTrue(e.getMessage().contains("need more than the 100 samples"), e.getMessage());
    }
}
