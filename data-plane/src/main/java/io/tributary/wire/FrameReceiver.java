package io.tributary.wire;

import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Agent that polls one subscription, reassembles fragmented frames, validates each frame's header
 * (magic and version, type, encoding, run, lengths, with authentication on also session, MAC and
 * sequence and then what the signer may send ({@link FrameAuthorizer}), and bounds against the registered
 * destination) and hands the payload to the {@link FrameSink}
 * registered for its (type, shard, tensor). Rejected frames are counted by {@link RejectReason} and
 * otherwise ignored.
 *
 * <p>Sinks always see float32 values: a float32 payload is handed over where it lies, a compressed one
 * ({@link Encoding}) is first decoded, after the authentication and bounds checks, into one scratch
 * buffer this receiver keeps and hands over from offset 0.
 *
 * <p>Run it with an {@code AgentRunner} (own thread) or an {@code AgentInvoker} (caller's thread).
 * The assembler, the header flyweight, the scratch buffer and the destination maps are allocated up
 * front; the steady state allocates nothing per frame (the scratch buffer grows once should a
 * compressed frame carry more values than the default frame size holds). Register destinations
 * before the agent starts, or from its thread.
 */
public final class FrameReceiver implements Agent, FragmentHandler {

    /** Default fragments per poll: enough to amortise the poll, small enough to keep duty cycles short. */
    public static final int DEFAULT_FRAGMENT_LIMIT = 64;

    private static final class Destination {
        final int elementCount;
        final FrameSink sink;

        Destination(int elementCount, FrameSink sink) {
            this.elementCount = elementCount;
            this.sink = sink;
        }
    }

    private final Subscription subscription;
    private final long runId;
    private final int fragmentLimit;
    private final String roleName;
    private final FragmentAssembler assembler = new FragmentAssembler(this);
    private final FrameHeader header = new FrameHeader();
    private final Long2ObjectHashMap<Destination> gradientDestinations = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<Destination> parameterDestinations = new Long2ObjectHashMap<>();
    private final AtomicLongArray rejected = new AtomicLongArray(RejectReason.values().length);
    private final AtomicLong framesAccepted = new AtomicLong();
    private final AtomicLong payloadBytesAccepted = new AtomicLong();
    private final FrameAuth.Verifier verifier;
    private final FrameAuthorizer authorizer;
    /** Compressed payloads decoded to float32; sized for a default frame's values. */
    private UnsafeBuffer scratch = newScratch(
            (FramePublisher.DEFAULT_MAX_FRAME_LENGTH - FrameHeader.HEADER_LENGTH) / Float.BYTES);

    public FrameReceiver(Subscription subscription, long runId) {
        this(subscription, runId, DEFAULT_FRAGMENT_LIMIT, "frame-receiver");
    }

    public FrameReceiver(Subscription subscription, long runId, int fragmentLimit, String roleName) {
        this(subscription, runId, fragmentLimit, roleName, null);
    }

    /**
     * @param verifier checks session, MAC and sequence of every frame before it reaches a sink; null
     *     when authentication is off (frames are then taken as they come)
     */
    public FrameReceiver(Subscription subscription, long runId, int fragmentLimit, String roleName,
                         FrameAuth.Verifier verifier) {
        this(subscription, runId, fragmentLimit, roleName, verifier, null);
    }

    /**
     * @param authorizer decides, after the verifier, whether the frame's signer may send it; null lets every
     *     authentic frame through. Used only with a verifier: without one there is no signer to judge.
     */
    public FrameReceiver(Subscription subscription, long runId, int fragmentLimit, String roleName,
                         FrameAuth.Verifier verifier, FrameAuthorizer authorizer) {
        if (fragmentLimit < 1) {
            throw new IllegalArgumentException("fragmentLimit " + fragmentLimit + " must be at least 1");
        }
        this.subscription = subscription;
        this.runId = runId;
        this.fragmentLimit = fragmentLimit;
        this.roleName = roleName;
        this.verifier = verifier;
        this.authorizer = verifier == null ? null : authorizer;
    }

    /** Routes gradient frames for (shard, tensor), {@code elementCount} elements long, to {@code sink}. */
    public FrameReceiver registerGradients(int shard, int tensor, int elementCount, FrameSink sink) {
        register(gradientDestinations, shard, tensor, elementCount, sink);
        return this;
    }

    /** Routes parameter frames for (shard, tensor), {@code elementCount} elements long, to {@code sink}. */
    public FrameReceiver registerParameters(int shard, int tensor, int elementCount, FrameSink sink) {
        register(parameterDestinations, shard, tensor, elementCount, sink);
        return this;
    }

    private static void register(Long2ObjectHashMap<Destination> map, int shard, int tensor, int elementCount,
            FrameSink sink) {
        if (elementCount < 0) {
            throw new IllegalArgumentException("elementCount " + elementCount + " is negative");
        }
        if (map.put(key(shard, tensor), new Destination(elementCount, sink)) != null) {
            throw new IllegalStateException("shard " + shard + " tensor " + tensor + " is already registered");
        }
    }

    private static long key(int shard, int tensor) {
        return ((long) shard << 32) | (tensor & 0xFFFF_FFFFL);
    }

    @Override
    public int doWork() {
        return subscription.poll(assembler, fragmentLimit);
    }

    @Override
    public void onFragment(DirectBuffer buffer, int offset, int length, Header aeronHeader) {
        if (length < FrameHeader.HEADER_LENGTH) {
            reject(RejectReason.TRUNCATED);
            return;
        }
        FrameHeader h = header.wrap(buffer, offset);
        if (h.magic() != FrameHeader.MAGIC) {
            reject(RejectReason.BAD_MAGIC);
            return;
        }
        if (h.version() != FrameHeader.VERSION) {
            reject(RejectReason.BAD_VERSION);
            return;
        }
        byte type = h.typeCode();
        Long2ObjectHashMap<Destination> destinations;
        if (type == FrameType.GRADIENT.code()) {
            destinations = gradientDestinations;
        } else if (type == FrameType.PARAMETERS.code()) {
            destinations = parameterDestinations;
        } else {
            reject(RejectReason.BAD_TYPE);
            return;
        }
        Encoding encoding = Encoding.ofCode(h.encoding());
        if (encoding == null) {
            reject(RejectReason.BAD_ENCODING);
            return;
        }
        if (h.runId() != runId) {
            reject(RejectReason.WRONG_RUN);
            return;
        }
        int payloadLength = h.payloadLength();
        if (payloadLength != length - FrameHeader.HEADER_LENGTH) {
            reject(RejectReason.TRUNCATED);
            return;
        }
        int floatCount = encoding.valueCount(payloadLength);
        if (floatCount < 0) {
            reject(RejectReason.BAD_LENGTH);
            return;
        }
        if (verifier != null) {
            FrameAuth.Verdict verdict = verifier.verify(buffer, offset, length, h.session(), h.sender(), h.sequence());
            if (verdict != FrameAuth.Verdict.AUTHENTIC) {
                reject(verdict == FrameAuth.Verdict.REPLAYED ? RejectReason.REPLAYED : RejectReason.FORGED);
                return;
            }
            if (authorizer != null) {
                RejectReason refused = authorizer.check(h.session(), type, h.sender(), h.shard(), h.tensor());
                if (refused != null) {
                    reject(refused);
                    return;
                }
            }
        }
        int shard = h.shard();
        int tensor = h.tensor();
        Destination destination = destinations.get(key(shard, tensor));
        if (destination == null) {
            reject(RejectReason.UNKNOWN_DESTINATION);
            return;
        }
        int elementOffset = h.elementOffset();
        if (elementOffset < 0 || (long) elementOffset + floatCount > destination.elementCount) {
            reject(RejectReason.OUT_OF_BOUNDS);
            return;
        }
        DirectBuffer payload = buffer;
        int payloadOffset = offset + FrameHeader.HEADER_LENGTH;
        if (encoding != Encoding.FLOAT32) {
            if (scratch.capacity() < floatCount * Float.BYTES) {
                scratch = newScratch(floatCount);
            }
            if (!encoding.decode(buffer, payloadOffset, floatCount, scratch, 0)) {
                reject(RejectReason.BAD_PAYLOAD);
                return;
            }
            payload = scratch;
            payloadOffset = 0;
        }
        if (destinations == gradientDestinations) {
            destination.sink.onGradient(h.sender(), shard, tensor, h.step(), elementOffset, payload, payloadOffset,
                    floatCount);
        } else {
            destination.sink.onParameters(h.sender(), shard, tensor, h.step(), elementOffset, payload, payloadOffset,
                    floatCount);
        }
        framesAccepted.lazySet(framesAccepted.get() + 1);
        payloadBytesAccepted.lazySet(payloadBytesAccepted.get() + payloadLength);
    }

    private static UnsafeBuffer newScratch(int floats) {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(Math.max(floats, 1) * Float.BYTES, 64));
    }

    private void reject(RejectReason reason) {
        rejected.incrementAndGet(reason.ordinal());
    }

    /** Frames rejected for {@code reason} at the header; readable from any thread. */
    public long rejected(RejectReason reason) {
        return rejected.get(reason.ordinal());
    }

    /** Frames rejected at the header for any reason; readable from any thread. */
    public long rejectedTotal() {
        long total = 0;
        for (int i = 0; i < rejected.length(); i++) {
            total += rejected.get(i);
        }
        return total;
    }

    /** Frames that passed validation and were handed to a sink; readable from any thread. */
    public long framesAccepted() {
        return framesAccepted.get();
    }

    /** Payload bytes of the frames handed to sinks, as they arrived (compressed frames count less); readable from any thread. */
    public long payloadBytesAccepted() {
        return payloadBytesAccepted.get();
    }

    public Subscription subscription() {
        return subscription;
    }

    @Override
    public String roleName() {
        return roleName;
    }
}
