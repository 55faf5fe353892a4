package io.tributary.trainer.cluster;

import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.TrainerProtocol.ResendGradient;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import io.tributary.dataplane.FloatChecksum;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.dataplane.ContributionSlots;
import io.tributary.wire.Encoding;
import io.tributary.wire.FrameType;
import io.tributary.wire.OfferFailedException;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A trainer's gradients on their way to the shards: two host buffers (step s uses buffer s & 1, so
 * the push of one step overlaps the compute of the next, and the last step's gradient stays in hand
 * to be sent again), which of them held no samples, and the push stream that sends a step's slices
 * over the data plane off the compute thread, with a CRC32 per slice as sent.
 */
final class GradientPush {

    private static final Logger LOG = LoggerFactory.getLogger(GradientPush.class);

    /**
     * One step's gradient on its way to the shards; {@code onlyShard} >= 0: a slice sent again to that
     * shard alone (it asked: {@link ResendGradient}), not reported as a step.
     */
    record Push(long step, float[] gradient, float loss, int samples, long waitNanos, long computeNanos,
                long floorAtRequest, int onlyShard) {
    }

    private final NodeDataPlane dataPlane;
    private final ShardLayout layout;
    private final ParameterFetch shards;
    private final int trainerId;
    private final float[][] buffers = new float[2][];
    /** Per buffer: that step had no samples (an empty contribution was sent instead). */
    private final boolean[] empty = new boolean[2];
    private final FloatChecksum checksum = new FloatChecksum();
    private final Encoding encoding;
    /** Lossy encodings: what rounding left out of the values sent so far, added to the next send. */
    private final float[] residual;
    /** Per buffer (step &amp; 1) and shard: the encoding the slice went in (float32 where the lossy one could not carry it). */
    private final Encoding[][] sentAs;
    /** Where {@link #round} encodes a frame's worth of values (their bytes are not used: the data plane encodes again). */
    private final UnsafeBuffer scratch;
    private BoundedSourceQueue<Push> pushes;

    /** A push of float32 frames. */
    GradientPush(NodeDataPlane dataPlane, ParameterFetch shards, int trainerId, int parameterCount) {
        this(dataPlane, shards, trainerId, parameterCount, Encoding.FLOAT32);
    }

    /**
     * @param shards   where each shard's slices go (the endpoints its answers came from)
     * @param encoding how the frames carry the values; a lossy one keeps its rounding error in a
     *                 residual added to the next step's send (error feedback)
     */
    GradientPush(NodeDataPlane dataPlane, ParameterFetch shards, int trainerId, int parameterCount, Encoding encoding) {
        this.encoding = encoding;
        this.residual = encoding.lossy() ? new float[parameterCount] : null;
        this.sentAs = new Encoding[2][dataPlane.layout().shardCount()];
        this.scratch = new UnsafeBuffer(new byte[encoding.payloadBytes(ContributionSlots.CHUNK_FLOATS)]);
        this.dataPlane = dataPlane;
        this.layout = dataPlane.layout();
        this.shards = shards;
        this.trainerId = trainerId;
        buffers[0] = new float[parameterCount];
        buffers[1] = new float[parameterCount];
    }

    /** Starts the push stream on {@code dispatcher}; {@code trainer} is told {@link TrainerActor.Pushed} of each push. */
    void start(Materializer materializer, String dispatcher, ActorRef<TrainerCommand> trainer) {
        pushes = Source.<Push>queue(2)
                .map(this::send)
                .withAttributes(ActorAttributes.dispatcher(dispatcher))
                .to(Sink.foreach(trainer::tell))
                .run(materializer);
    }

    /** Queues a push (two at most wait: the step sent and the one computed meanwhile). */
    QueueOfferResult offer(Push push) {
        return pushes.offer(push);
    }

    /** The buffer that holds step {@code step}'s gradient. */
    float[] buffer(long step) {
        return buffers[(int) (step & 1)];
    }

    /** Multiplies step {@code step}'s gradient by {@code factor} (nothing to do for 1). */
    void scale(long step, float factor) {
        if (factor == 1f) {
            return;
        }
        float[] grad = buffer(step);
        for (int i = 0; i < grad.length; i++) {
            grad[i] *= factor;
        }
    }

    /** Step {@code step} had no samples ({@code true}) or a gradient in its buffer. */
    void markEmpty(long step, boolean noSamples) {
        empty[(int) (step & 1)] = noSamples;
    }

    boolean wasEmpty(long step) {
        return empty[(int) (step & 1)];
    }

    /**
     * Sends one step's gradient slices to their shards (or one slice, sent again); runs in the push
     * stream. A slice that cannot go out (its shard's node unreachable past the send time-out, or an
     * endpoint that is not {@code host:port}) is logged and skipped, never fails the stream: the
     * shard asks for it again ({@link ResendGradient}) when this trainer asks for the next version.
     */
    TrainerActor.Pushed send(Push p) {
        long t = System.nanoTime();
        Encoding[] as = sentAs[(int) (p.step() & 1)];
        if (p.onlyShard() >= 0) {
            // as it went the first time: rounded values encode to themselves, a fallback goes as float32 again
            sendSlice(p, p.onlyShard(), as[p.onlyShard()] == null ? Encoding.FLOAT32 : as[p.onlyShard()]);
            return new TrainerActor.Pushed(p, System.nanoTime() - t, List.of());
        }
        Long[] sums = new Long[layout.shardCount()];
        for (int k = 0; k < layout.shardCount(); k++) {
            // Rounded in place first, whether or not the send then goes through: the checksum, this send
            // and any send again are all of the values the shard decodes.
            as[k] = encoding.lossy() && !round(p, k) ? Encoding.FLOAT32 : encoding;
            sums[k] = checksum.of(p.gradient(), layout.offset(k), layout.length(k));
            sendSlice(p, k, as[k]);
        }
        return new TrainerActor.Pushed(p, System.nanoTime() - t, List.of(sums));
    }

    /**
     * Rounds shard {@code k}'s slice in place to what the lossy encoding carries, frame by frame as the
     * data plane cuts it, adding the residual and keeping what rounding lost in it (error feedback).
     * Returns false when the encoding cannot carry the slice (int8: NaN, infinity or a huge value):
     * the slice then goes as float32, so that the shard's checks see it and reject it.
     */
    private boolean round(Push p, int k) {
        float[] g = p.gradient();
        int end = layout.offset(k) + layout.length(k);
        for (int from = layout.offset(k); from < end; from += ContributionSlots.CHUNK_FLOATS) {
            int count = Math.min(ContributionSlots.CHUNK_FLOATS, end - from);
            try {
                encoding.encode(g, from, count, residual, scratch, 0);
            } catch (IllegalArgumentException e) {
                LOG.warn("trainer {}: step {}'s gradient for shard {} cannot go as {} ({}); it goes as float32",
                        trainerId, p.step(), k, encoding.configName(), e.getMessage());
                return false;
            }
        }
        return true;
    }

    private void sendSlice(Push p, int k, Encoding as) {
        String endpoint = shards.shardEndpoint(k);
        try {
            // already rounded: no residual here, so a slice sent again does not take it twice
            dataPlane.send(endpoint, FrameType.GRADIENT, trainerId, k, 0, p.step(), p.gradient(), layout.offset(k),
                    layout.length(k), as, null);
        } catch (OfferFailedException | IllegalArgumentException e) {
            LOG.warn("trainer {}: step {}'s gradient for shard {} not sent to {}: {}; the shard asks for it again",
                    trainerId, p.step(), k, endpoint, e.getMessage());
        }
    }
}
