package io.tributary.trainer.cluster;

import io.tributary.trainer.data.BatchIterator;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A trainer's input pipeline, a Pekko Streams graph: mini-batches of its partition are gathered
 * ahead of use (on a dispatcher of their own) into a small pool of reusable buffers, {@code depth}
 * batches ahead at most, with back-pressure from the trainer, which pulls one batch per step and
 * hands the buffer back when it has uploaded it. Epochs roll over inside the stream.
 */
public final class BatchPipeline implements AutoCloseable {

    /** One mini-batch: row-major features and float labels of {@code size} rows. */
    public static final class Batch {
        final float[] features;
        final float[] labels;
        int size;

        Batch(int batchSize, int featureCount) {
            features = new float[batchSize * featureCount];
            labels = new float[batchSize];
        }

        public float[] features() {
            return features;
        }

        public float[] labels() {
            return labels;
        }

        public int size() {
            return size;
        }
    }

    private final ArrayBlockingQueue<Batch> free;
    private final SinkQueueWithCancel<Batch> queue;

    /**
     * @param skip batches to drop first (a trainer restarted mid-run resumes where the run stands)
     */
    public BatchPipeline(BatchIterator batches, int depth, long skip, String dispatcher, Materializer materializer) {
        // In flight at most: depth in the buffer, one in the sink, one at the consumer, one being filled.
        int poolSize = depth + 3;
        this.free = new ArrayBlockingQueue<>(poolSize);
        for (int i = 0; i < poolSize; i++) {
            free.add(new Batch(batches.batchSize(), batches.dataset().features()));
        }
        for (long s = 0; s < skip; s++) {
            advance(batches);
        }
        this.queue = Source.repeat(NotUsed.notUsed())
                .map(n -> fill(batches))
                .buffer(depth, OverflowStrategy.backpressure())
                .withAttributes(ActorAttributes.dispatcher(dispatcher))
                .toMat(Sink.queue(), (left, right) -> right)
                .withAttributes(Attributes.inputBuffer(1, 1))
                .run(materializer);
    }

    private static void advance(BatchIterator batches) {
        if (!batches.next()) {
            batches.nextEpoch();
            if (!batches.next()) {
                throw new IllegalStateException("partition of " + batches.partitionSize()
                        + " samples yields no batch of " + batches.batchSize());
            }
        }
    }

    private Batch fill(BatchIterator batches) {
        Batch b = free.poll();
        if (b == null) {
            throw new IllegalStateException("batch pool exhausted: a consumer kept batches without release()");
        }
        advance(batches);
        int n = batches.size();
        System.arraycopy(batches.features(), 0, b.features, 0, n * batches.dataset().features());
        System.arraycopy(batches.labels(), 0, b.labels, 0, n);
        b.size = n;
        return b;
    }

    /** The next batch, when the stream has one ready. */
    public CompletionStage<Optional<Batch>> next() {
        return queue.pull();
    }

    /** Gives a batch's buffers back for reuse. */
    public void release(Batch b) {
        free.offer(b);
    }

    @Override
    public void close() {
        queue.cancel();
    }
}
