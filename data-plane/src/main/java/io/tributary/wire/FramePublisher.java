package io.tributary.wire;

import io.aeron.Publication;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.BufferUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Sends a range of a {@code float[]} (a trainer's gradient, a shard's parameters) on one publication
 * as frames of at most {@link #maxPayloadFloats()} elements each, chunk {@code k} carrying elements
 * {@code [k * maxPayloadFloats, ...)} of the destination, in float32 or a compressed {@link Encoding}
 * (same elements per frame, fewer bytes). One frame buffer is allocated up front and reused, values are
 * encoded straight into it: nothing is allocated per send or per frame.
 *
 * <p>Back-pressure, an admin action and a not-yet-connected subscriber are waited out with the idle
 * strategy until the send deadline, each wait counted; past the deadline, or at once for a closed
 * publication or an exhausted stream position, the send fails with {@link OfferFailedException}.
 * Single-threaded: one publisher per sending thread.
 */
public final class FramePublisher {

    /** Default largest frame, header included: 64 KiB (large messages are what make Aeron fast). */
    public static final int DEFAULT_MAX_FRAME_LENGTH = 64 * 1024;
    /** Default time one frame may wait for back-pressure or a connection to clear. */
    public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(5);

    private final Publication publication;
    private final long runId;
    private final int senderId;
    private final int maxPayloadFloats;
    private final long sendTimeoutNs;
    private final IdleStrategy idleStrategy;
    private final CounterDataPoint backPressureMetric;
    private final UnsafeBuffer frame;
    private final FrameHeader header = new FrameHeader();
    private final AtomicLong backPressureWaits = new AtomicLong();
    private final AtomicLong notConnectedWaits = new AtomicLong();
    private final AtomicLong framesSent = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final FrameAuth.Signer signer;

    /**
     * @param maxFrameLength largest frame in bytes, header included; at most the publication's max message
     *     length and large enough for two float32 elements (so that an int8 frame, scale included, fits too)
     * @param backPressureMetric incremented once per back-pressured or admin-action wait; may be null
     */
    public FramePublisher(Publication publication, long runId, int senderId, int maxFrameLength, Duration sendTimeout,
            IdleStrategy idleStrategy, CounterDataPoint backPressureMetric) {
        this(publication, runId, senderId, maxFrameLength, sendTimeout, idleStrategy, backPressureMetric, null);
    }

    /**
     * As above, signing every frame with {@code signer} (session, sequence and MAC of
     * {@link FrameAuth}); null sends unsigned frames.
     */
    public FramePublisher(Publication publication, long runId, int senderId, int maxFrameLength, Duration sendTimeout,
            IdleStrategy idleStrategy, CounterDataPoint backPressureMetric, FrameAuth.Signer signer) {
        this.signer = signer;
        if (maxFrameLength > publication.maxMessageLength()) {
            throw new IllegalArgumentException("maxFrameLength " + maxFrameLength + " exceeds the publication's max "
                    + "message length " + publication.maxMessageLength() + " on " + publication.channel()
                    + ": lower it or raise the term length (max message = term length / 8)");
        }
        if (maxFrameLength < FrameHeader.HEADER_LENGTH + 2 * Float.BYTES) {
            throw new IllegalArgumentException("maxFrameLength " + maxFrameLength + " leaves room for fewer than two "
                    + "float32 values after the " + FrameHeader.HEADER_LENGTH + "-byte header: raise it");
        }
        if (sendTimeout.isNegative()) {
            throw new IllegalArgumentException("sendTimeout " + sendTimeout + " is negative");
        }
        this.publication = publication;
        this.runId = runId;
        this.senderId = senderId;
        this.maxPayloadFloats = (maxFrameLength - FrameHeader.HEADER_LENGTH) / Float.BYTES;
        this.sendTimeoutNs = sendTimeout.toNanos();
        this.idleStrategy = idleStrategy;
        this.backPressureMetric = backPressureMetric;
        int frameCapacity = FrameHeader.HEADER_LENGTH + maxPayloadFloats * Float.BYTES;
        this.frame = new UnsafeBuffer(BufferUtil.allocateDirectAligned(frameCapacity, 64));
    }

    /**
     * A publisher with the default frame length (capped by the publication's max message length), send
     * timeout and a backing-off idle strategy, and no Prometheus metric.
     */
    public static FramePublisher create(Publication publication, long runId, int senderId) {
        return new FramePublisher(publication, runId, senderId,
                Math.min(DEFAULT_MAX_FRAME_LENGTH, publication.maxMessageLength()), DEFAULT_SEND_TIMEOUT,
                new BackoffIdleStrategy(), null);
    }

    /** Sends {@code src[srcOffset, srcOffset + length)} as the gradient of {@code step} for (shard, tensor). */
    public int sendGradient(int shard, int tensor, long step, float[] src, int srcOffset, int length) {
        return send(FrameType.GRADIENT, shard, tensor, step, src, srcOffset, length, 0);
    }

    /** Sends {@code src[srcOffset, srcOffset + length)} as the parameters of {@code version} for (shard, tensor). */
    public int sendParameters(int shard, int tensor, long version, float[] src, int srcOffset, int length) {
        return send(FrameType.PARAMETERS, shard, tensor, version, src, srcOffset, length, 0);
    }

    /**
     * Sends {@code length} floats from {@code src[srcOffset]} to elements {@code [destOffset, destOffset + length)}
     * of the destination, in frames of at most {@link #maxPayloadFloats()} floats. Receivers that reject
     * duplicates by chunk expect {@code destOffset} to be a multiple of {@link #maxPayloadFloats()}.
     *
     * @return the number of frames sent
     * @throws OfferFailedException when a frame cannot be sent within the send timeout, or the publication is
     *     closed or at its maximum position
     */
    public int send(FrameType type, int shard, int tensor, long step, float[] src, int srcOffset, int length,
            int destOffset) {
        return send(type, shard, tensor, step, src, srcOffset, length, destOffset, Encoding.FLOAT32, null);
    }

    /**
     * As {@link #send(FrameType, int, int, long, float[], int, int, int)}, the values in {@code encoding}: still
     * {@link #maxPayloadFloats()} values per frame, fewer bytes when compressed.
     *
     * <p>{@code residual == null}: {@code src} is only read (parameters: the shard's master copy stays as it
     * is). Otherwise, for a lossy encoding (float32 ignores it), error feedback: each element sent is
     * {@code v = src[i] + residual[i]}; afterwards {@code src[i]} holds exactly the value the receiver decodes
     * (bit for bit, so a checksum over {@code src} matches the receiver's) and {@code residual[i]} what was
     * lost, {@code v - src[i]}, to be added to the next send (0 where that is not finite). {@code residual}
     * is indexed like {@code src}.
     *
     * @return the number of frames sent
     * @throws IllegalArgumentException for int8, at a frame holding a non-finite value or one above
     *     {@code 127 * 2^121}; the frames before it have been sent (and with a residual, applied to it)
     * @throws OfferFailedException when a frame cannot be sent within the send timeout, or the publication is
     *     closed or at its maximum position
     */
    public int send(FrameType type, int shard, int tensor, long step, float[] src, int srcOffset, int length,
            int destOffset, Encoding encoding, float[] residual) {
        if (srcOffset < 0 || length < 0 || srcOffset > src.length - length || destOffset < 0
                || destOffset > Integer.MAX_VALUE - length) {
            throw new IndexOutOfBoundsException("range [" + srcOffset + ", +" + length + ") of a float[" + src.length
                    + "] to element " + destOffset);
        }
        if (encoding == null) {
            throw new IllegalArgumentException("encoding is null: pass Encoding.FLOAT32 for uncompressed frames");
        }
        if (residual != null && residual.length < srcOffset + length) {
            throw new IndexOutOfBoundsException("residual of " + residual.length + " floats is shorter than the range ["
                    + srcOffset + ", +" + length + ") of src: it is indexed like src, size it like src");
        }
        int frames = 0;
        long bytes = 0;
        try {
            for (int done = 0; done < length; done += maxPayloadFloats) {
                int count = Math.min(maxPayloadFloats, length - done);
                int payloadLength = encoding.encode(src, srcOffset + done, count, residual, frame,
                        FrameHeader.HEADER_LENGTH);
                header.wrap(frame, 0)
                        .writeHeader(type, encoding, runId, senderId, shard, tensor, destOffset + done, step)
                        .payloadLength(payloadLength);
                int frameLength = FrameHeader.HEADER_LENGTH + payloadLength;
                if (signer != null) {
                    signer.sign(frame, 0, frameLength);
                }
                offer(frameLength);
                frames++;
                bytes += frameLength;
            }
        } finally {
            framesSent.lazySet(framesSent.get() + frames);
            bytesSent.lazySet(bytesSent.get() + bytes);
        }
        return frames;
    }

    private void offer(int frameLength) {
        long deadline = 0;
        boolean waiting = false;
        while (true) {
            long result = publication.offer(frame, 0, frameLength);
            if (result > 0) {
                if (waiting) {
                    idleStrategy.reset();
                }
                return;
            }
            if (result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION) {
                backPressureWaits.lazySet(backPressureWaits.get() + 1);
                if (backPressureMetric != null) {
                    backPressureMetric.inc();
                }
            } else if (result == Publication.NOT_CONNECTED) {
                notConnectedWaits.lazySet(notConnectedWaits.get() + 1);
            } else if (result == Publication.CLOSED) {
                throw new OfferFailedException("publication " + publication.channel() + " stream "
                        + publication.streamId() + " is CLOSED: create a new publication", result);
            } else if (result == Publication.MAX_POSITION_EXCEEDED) {
                throw new OfferFailedException("publication " + publication.channel() + " stream "
                        + publication.streamId() + " reached MAX_POSITION_EXCEEDED: close it and create a new one",
                        result);
            } else {
                throw new OfferFailedException("publication " + publication.channel() + " returned unknown offer result "
                        + result, result);
            }
            long now = System.nanoTime();
            if (!waiting) {
                waiting = true;
                deadline = now + sendTimeoutNs;
                idleStrategy.reset();
            } else if (now - deadline >= 0) {
                idleStrategy.reset();
                throw new OfferFailedException("frame of " + frameLength + " bytes not sent within "
                        + Duration.ofNanos(sendTimeoutNs) + " on " + publication.channel() + " stream "
                        + publication.streamId() + ": still " + offerResultName(result)
                        + (result == Publication.NOT_CONNECTED ? " (no subscriber: is the receiver up and reachable?)"
                                : " (receiver too slow: raise the timeout or the window)"), result);
            }
            idleStrategy.idle();
        }
    }

    /** Name of a {@code Publication.offer} result: a constant's name, or {@code "POSITION"} for a success. */
    public static String offerResultName(long result) {
        if (result > 0) {
            return "POSITION";
        }
        if (result == Publication.NOT_CONNECTED) {
            return "NOT_CONNECTED";
        }
        if (result == Publication.BACK_PRESSURED) {
            return "BACK_PRESSURED";
        }
        if (result == Publication.ADMIN_ACTION) {
            return "ADMIN_ACTION";
        }
        if (result == Publication.CLOSED) {
            return "CLOSED";
        }
        if (result == Publication.MAX_POSITION_EXCEEDED) {
            return "MAX_POSITION_EXCEEDED";
        }
        return "UNKNOWN(" + result + ")";
    }

    /** Elements per frame; receivers' chunk size must match it. */
    public int maxPayloadFloats() {
        return maxPayloadFloats;
    }

    /** Waits caused by {@code BACK_PRESSURED} or {@code ADMIN_ACTION}, one per idle; readable from any thread. */
    public long backPressureWaits() {
        return backPressureWaits.get();
    }

    /** Waits caused by {@code NOT_CONNECTED}, one per idle; readable from any thread. */
    public long notConnectedWaits() {
        return notConnectedWaits.get();
    }

    /** Frames sent so far; readable from any thread. */
    public long framesSent() {
        return framesSent.get();
    }

    /** Bytes of the frames sent so far, headers included, as they went out (compressed frames count less). */
    public long bytesSent() {
        return bytesSent.get();
    }

    public Publication publication() {
        return publication;
    }
}
