package io.tributary.trainer.cluster;

import io.tributary.protocol.WorkPlan;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.EpochSequence;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.function.Consumer;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A trainer's input pipeline, a Pekko Streams graph: the trainer asks for the batch of a step as
 * soon as its {@link WorkPlan} and lease cover that step (a step or two ahead of use), and the
 * stream gathers that step's slice of the epoch's samples ({@link EpochSequence}) on a dispatcher
 * of its own into one of a few reusable buffers, which the trainer hands back once uploaded. A
 * buffer grows only when a plan gives this trainer a larger batch than any before.
 */
public final class BatchPipeline implements AutoCloseable, WorkPlans.BatchSource {

    /** At most this many batches asked for and not handed back (the queue's bound, plus slack). */
    public static final int MAX_AHEAD = 3;

    /** One mini-batch: row-major features and float labels of {@code size} rows, for {@code step}. */
    public static final class Batch {
        float[] features;
        float[] labels;
        int[] positions;
        int[] rows;
        int size;
        long step;

        Batch(int capacity, int featureCount, int labelWidth) {
            grow(capacity, featureCount, labelWidth);
        }

        private void grow(int capacity, int featureCount, int labelWidth) {
            features = new float[Math.max(1, capacity) * featureCount];
            labels = new float[Math.max(1, capacity) * labelWidth];
            positions = new int[Math.max(1, capacity)];
            rows = new int[Math.max(1, capacity)];
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

        public long step() {
            return step;
        }
    }

    /** What to gather: the slice of the trainer at {@code index} of {@code plan} in {@code step}. */
    private record Request(long step, WorkPlan plan, int index) {
    }

    private final Dataset dataset;
    private final EpochSequence sequence;
    private final ArrayBlockingQueue<Batch> free = new ArrayBlockingQueue<>(MAX_AHEAD);
    private final BoundedSourceQueue<Request> requests;

    /**
     * @param ready told (on the pipeline's dispatcher) of each gathered {@link Batch}, or of the
     *              {@link RuntimeException} that gathering one ended in
     */
    public BatchPipeline(Dataset dataset, EpochSequence sequence, int initialCapacity, String dispatcher,
                         Materializer materializer, Consumer<Object> ready) {
        this.dataset = dataset;
        this.sequence = sequence;
        for (int i = 0; i < MAX_AHEAD; i++) {
            free.add(new Batch(initialCapacity, dataset.features(), dataset.labelWidth()));
        }
        this.requests = Source.<Request>queue(MAX_AHEAD)
                .map(this::fillOrFailure)
                .withAttributes(ActorAttributes.dispatcher(dispatcher))
                .to(Sink.foreach(ready::accept))
                .run(materializer);
    }

    /**
     * Asks for step {@code step}'s batch of the trainer at {@code index} in {@code plan}.
     *
     * @throws IllegalStateException when more than {@link #MAX_AHEAD} batches are asked for at once
     */
    @Override
    public void request(long step, WorkPlan plan, int index) {
        QueueOfferResult r = requests.offer(new Request(step, plan, index));
        if (r != QueueOfferResult.enqueued()) {
            throw new IllegalStateException("the input pipeline refused the batch of step " + step + ": " + r);
        }
    }

    /** The batch, or what went wrong gathering it (the trainer fails with it; the stream goes on). */
    private Object fillOrFailure(Request r) {
        try {
            return fill(r);
        } catch (RuntimeException e) {
            return e;
        }
    }

    private Batch fill(Request r) {
        Batch b = free.poll();
        if (b == null) {
            throw new IllegalStateException("batch pool exhausted: a consumer kept batches without release()");
        }
        WorkPlan plan = r.plan();
        int n = r.index() < 0 ? 0 : plan.sliceSize(r.index(), r.step()); // not in the plan: an empty step
        if (b.rows.length < n) {
            b.grow(n, dataset.features(), dataset.labelWidth()); // a plan with a larger batch than any before: once per plan at most
        }
        if (n > 0) {
            sequence.startEpoch(plan.epoch());
            long start = plan.sliceStart(r.index(), r.step());
            plan.positions(start, start + n, b.positions);
            for (int i = 0; i < n; i++) {
                b.rows[i] = sequence.row(b.positions[i]);
            }
            dataset.copyBatch(b.rows, 0, n, b.features, b.labels);
        }
        b.size = n;
        b.step = r.step();
        return b;
    }

    /** Gives a batch's buffers back for reuse. */
    public void release(Batch b) {
        free.offer(b);
    }

    private boolean closed;

    /** Stops the stream; a second call does nothing. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                requests.complete();
            } catch (IllegalStateException alreadyEnded) {
                // the stream ended before (its materializer stopped with the actor): nothing left to stop
            }
        }
    }
}
