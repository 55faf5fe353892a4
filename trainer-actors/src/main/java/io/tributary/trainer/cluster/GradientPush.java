package io.tributary.trainer.cluster;

import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.TrainerProtocol.ResendGradient;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import io.tributary.dataplane.FloatChecksum;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.wire.Encoding;
import io.tributary.wire.FrameType;
import io.tributary.wire.OfferFailedException;
import java.util.List;
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
        if (p.onlyShard() >= 0) {
            sendSlice(p, p.onlyShard());
            return new TrainerActor.Pushed(p, System.nanoTime() - t, List.of());
        }
        Long[] sums = new Long[layout.shardCount()];
        for (int k = 0; k < layout.shardCount(); k++) {
            // a lossy send first rounds the slice in place (with the residual): the checksum is of what the shard decodes
            sendSlice(p, k);
            sums[k] = checksum.of(p.gradient(), layout.offset(k), layout.length(k));
        }
        return new TrainerActor.Pushed(p, System.nanoTime() - t, List.of(sums));
    }

    private void sendSlice(Push p, int k) {
        String endpoint = shards.shardEndpoint(k);
        try {
            // a slice sent again was rounded on its first send: encoding it again is exact, and it must not
            // take the residual twice
            dataPlane.send(endpoint, FrameType.GRADIENT, trainerId, k, 0, p.step(), p.gradient(), layout.offset(k),
                    layout.length(k), encoding, p.onlyShard() >= 0 ? null : residual);
        } catch (OfferFailedException | IllegalArgumentException e) {
            LOG.warn("trainer {}: step {}'s gradient for shard {} not sent to {}: {}; the shard asks for it again",
                    trainerId, p.step(), k, endpoint, e.getMessage());
        }
    }
}
