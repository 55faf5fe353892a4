package io.tributary.dataplane;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.tributary.protocol.ShardLayout;
import io.tributary.wire.DataPlane;
import io.tributary.wire.Encoding;
import io.tributary.wire.FrameAuth;
import io.tributary.wire.FrameHeader;
import io.tributary.wire.FramePublisher;
import io.tributary.wire.FrameReceiver;
import io.tributary.wire.FrameSink;
import io.tributary.wire.FrameType;
import io.tributary.wire.OfferFailedException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's data plane: its embedded media driver, one UDP subscription on its own endpoint that
 * receives every frame sent to this node, and a receiver agent on a thread of its own that routes
 * gradient frames to the parameter shards hosted here and parameter frames to the model replica
 * here. Shards and replicas come and go at run time (rebalance, restarts); routing goes through
 * atomic slots, so the receiver needs no lock and no registration at run time. Publications to
 * other nodes are created once per endpoint and reused. The chaos tool's faults (a cut network, a
 * bandwidth cap) come in through {@link FaultHooks}.
 */
public final class NodeDataPlane implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NodeDataPlane.class);
    /** The one stream id Tributary uses on every channel. */
    public static final int STREAM_ID = 1001;
    /** Parameter frames carry the receiving replica in their tensor field: the trainer's model ... */
    public static final int TRAINER_REPLICA = 0;
    /** ... or the coordinator's evaluation copy (both may live in one JVM). */
    public static final int COORDINATOR_REPLICA = 1;
    private static final int REPLICAS = 2;
    /** The name of the thread that polls both receivers. */
    public static final String RECEIVER_THREAD = "data-plane-receiver";

    private final DataPlane dataPlane;
    private final String endpoint;
    private final long runId;
    private final int senderId;
    private final ShardLayout layout;
    private final FrameReceiver receiver;
    private final FrameReceiver ipcReceiver;
    private final AgentRunner runner;
    private final AtomicReferenceArray<ContributionSlots> shards;
    private final AtomicReferenceArray<ParameterAssembler> replicas = new AtomicReferenceArray<>(REPLICAS);
    private final ConcurrentHashMap<String, FramePublisher> publishers = new ConcurrentHashMap<>();
    /** Frame bytes sent on every publication of this node, closed ones included. */
    private final AtomicLong bytesSent = new AtomicLong();
    private final Duration sendTimeout;
    /** Publications being opened off the caller's thread ({@link #openAsync}), by publisher key. */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> opening = new ConcurrentHashMap<>();
    /** Opens publications for {@link #openAsync}: each open may wait up to two send time-outs. */
    private final ExecutorService opener = Executors.newCachedThreadPool(new OpenerThreads());
    private final FrameAuth auth;
    private final FrameGrants grants;
    private final FaultHooks faults;

    /**
     * @param host     the address this node receives on (127.0.0.1 for a local cluster)
     * @param port     the UDP port; 0 picks a free one
     * @param senderId this node's id in the frames it sends (its trainer id, or a shard's id + 1,000,000)
     */
    public NodeDataPlane(DataPlane.Settings settings, String host, int port, long runId, int senderId,
                         ShardLayout layout, Duration sendTimeout) {
        this(settings, host, port, runId, senderId, layout, sendTimeout, null);
    }

    /**
     * @param auth this node's frame authentication: every frame sent is signed, every frame received
     *     must come from a peer learned with {@link #peerJoined} with a valid MAC and a fresh sequence;
     *     null turns authentication off
     */
    public NodeDataPlane(DataPlane.Settings settings, String host, int port, long runId, int senderId,
                         ShardLayout layout, Duration sendTimeout, FrameAuth auth) {
        this(settings, host, port, runId, senderId, layout, sendTimeout, auth, FaultHooks.NONE);
    }

    /**
     * @param faults faults to inject into every send and receive (the chaos tool's);
     *     {@link FaultHooks#NONE} in production
     */
    public NodeDataPlane(DataPlane.Settings settings, String host, int port, long runId, int senderId,
                         ShardLayout layout, Duration sendTimeout, FrameAuth auth, FaultHooks faults) {
        this(settings, host, host, port, runId, senderId, layout, sendTimeout, auth, faults);
    }

    /**
     * @param bindHost the address this node receives on ({@code 0.0.0.0} for every interface)
     * @param host     the address other nodes send to: the host of {@link #endpoint()}
     */
    public NodeDataPlane(DataPlane.Settings settings, String bindHost, String host, int port, long runId, int senderId,
                         ShardLayout layout, Duration sendTimeout, FrameAuth auth, FaultHooks faults) {
        this.auth = auth;
        this.grants = auth == null ? null : new FrameGrants();
        this.faults = java.util.Objects.requireNonNull(faults, "faults (FaultHooks.NONE for none)");
        this.dataPlane = DataPlane.launch(settings);
        this.runId = runId;
        this.senderId = senderId;
        this.layout = layout;
        this.sendTimeout = sendTimeout;
        this.shards = new AtomicReferenceArray<>(layout.shardCount());
        Subscription subscription;
        try {
            subscription = dataPlane.addSubscription(DataPlane.udpChannel(bindHost, port), STREAM_ID);
        } catch (RuntimeException e) {
            dataPlane.close();
            throw new IllegalStateException("cannot receive on UDP " + bindHost + ":" + port + " (" + e.getMessage()
                    + "): pick another data-plane port (tributary.data-plane.port)", e);
        }
        String resolved = subscription.tryResolveChannelEndpointPort();
        String bound = resolved != null ? endpointOf(resolved) : bindHost + ":" + port;
        // announced as host and the port bound: others reach this node at host (a port-forward keeps the port)
        this.endpoint = host + bound.substring(bound.lastIndexOf(':'));
        this.receiver = new FrameReceiver(subscription, runId, 64, "data-plane-receiver-udp",
                auth == null ? null : auth.newVerifier(), grants);
        // Frames between roles in this JVM (a trainer and a shard on one node) go through IPC.
        this.ipcReceiver = new FrameReceiver(dataPlane.addSubscription(DataPlane.IPC_CHANNEL, STREAM_ID), runId, 64,
                "data-plane-receiver-ipc", auth == null ? null : auth.newVerifier(), grants);
        if (auth != null) {
            // every role until this node's membership says which it holds (peerJoined for its own endpoint)
            grants.peer(endpoint, auth.publicKeyText(), FrameGrants.ALL_ROLES);
            auth.addPeer(endpoint, auth.publicKeyText());
        }
        FrameSink sink = new Router();
        for (FrameReceiver r : new FrameReceiver[] {receiver, ipcReceiver}) {
            for (int k = 0; k < layout.shardCount(); k++) {
                r.registerGradients(k, 0, layout.length(k), sink);
                for (int replica = 0; replica < REPLICAS; replica++) {
                    r.registerParameters(k, replica, layout.length(k), sink);
                }
            }
        }
        // Idle: a few spins and yields, then parks growing to 1 ms. With 200 us parks the receivers of
        // four JVMs on 2 cores woke ~10,000 times a second each and took ~14% of a core each while
        // the trainers computed (per-thread /proc counters, local-SGD demo); a frame now waits at most
        // 1 ms more when it finds the receiver parked.
        this.runner = new AgentRunner(new BackoffIdleStrategy(10, 5, 10_000, 1_000_000),
                t -> LOG.error("data-plane receiver failed", t), null, new BothReceivers());
        AgentRunner.startOnThread(runner);
        LOG.info("data plane receiving on {} (run {}, {} shards, frames {})", endpoint, runId, layout.shardCount(),
                auth == null ? "unauthenticated" : "authenticated, session " + Integer.toHexString(auth.sessionId()));
    }

    private static String endpointOf(String channel) {
        int i = channel.indexOf("endpoint=");
        String rest = channel.substring(i + "endpoint=".length());
        int end = rest.indexOf('|');
        return end < 0 ? rest : rest.substring(0, end);
    }

    /** Where other nodes send frames for this node, {@code host:port}. */
    public String endpoint() {
        return endpoint;
    }

    public long runId() {
        return runId;
    }

    public ShardLayout layout() {
        return layout;
    }

    /** The UDP receiver (frames from other JVMs). */
    public FrameReceiver receiver() {
        return receiver;
    }

    /** The IPC receiver (frames between roles of this JVM). */
    public FrameReceiver ipcReceiver() {
        return ipcReceiver;
    }

    /** Back-pressure and not-connected waits of every publication of this node so far. */
    public long sendWaits() {
        long n = 0;
        for (FramePublisher p : publishers.values()) {
            n += p.backPressureWaits() + p.notConnectedWaits();
        }
        return n;
    }

    /**
     * Frame bytes this node sent over the data plane, headers included, summed over all its publications
     * (closed ones too): what went on the wire, so compressed frames count less. Readable from any thread.
     */
    public long bytesSent() {
        return bytesSent.get();
    }

    /** Routes gradient frames of {@code shard} to {@code slots} (null: drop them). */
    public void hostShard(int shard, ContributionSlots slots) {
        shards.set(shard, slots);
    }

    /** Stops routing to {@code slots} if they are still the ones hosted for {@code shard}. */
    public void unhostShard(int shard, ContributionSlots slots) {
        shards.compareAndSet(shard, slots, null);
    }

    /** Routes parameter frames for {@code replica} ({@link #TRAINER_REPLICA} or {@link #COORDINATOR_REPLICA}) to {@code assembler}. */
    public void hostReplica(int replica, ParameterAssembler assembler) {
        replicas.set(replica, assembler);
    }

    /** Stops routing to {@code assembler} if it is still the one hosted for {@code replica}. */
    public void unhostReplica(int replica, ParameterAssembler assembler) {
        replicas.compareAndSet(replica, assembler, null);
    }

    /**
     * Sends {@code src[srcOffset, +length)} as one shard's gradient (or parameters) to the node at
     * {@code target}; blocks while Aeron applies back-pressure, up to the send timeout.
     */
    public void send(String target, FrameType type, int sender, int shard, int tensor, long stepOrVersion, float[] src,
                     int srcOffset, int length) {
        send(target, type, sender, shard, tensor, stepOrVersion, src, srcOffset, length, Encoding.FLOAT32, null);
    }

    /**
     * Like {@link #send(String, FrameType, int, int, int, long, float[], int, int)}, the values in
     * {@code encoding}; {@code residual} as in {@link FramePublisher#send(FrameType, int, int, long, float[], int,
     * int, int, Encoding, float[])}: null leaves {@code src} as it is, otherwise error feedback, after which
     * {@code src} holds exactly what the receiver decodes.
     */
    public void send(String target, FrameType type, int sender, int shard, int tensor, long stepOrVersion, float[] src,
                     int srcOffset, int length, Encoding encoding, float[] residual) {
        if (faults.isCutOff(target)) {
            return;
        }
        FramePublisher p = publishers.computeIfAbsent(publisherKey(target, sender), key -> open(target, sender));
        sendOn(p, type, shard, tensor, stepOrVersion, src, srcOffset, length, encoding, residual);
    }

    /**
     * Whether frames of {@code sender} to {@code target} have a publication already: a send then
     * waits for nothing but back-pressure, never for opening one (up to the node's key and then a
     * connection, two send time-outs).
     */
    public boolean hasPublication(String target, int sender) {
        return publishers.containsKey(publisherKey(target, sender));
    }

    /**
     * Opens the publication for frames of {@code sender} to {@code target} on a thread of the data
     * plane's own, so that an actor's thread never waits for it. The future completes when it is
     * open, connected or not (a send then says which), or exceptionally with why it cannot be (the
     * endpoint is not host:port, or no key for it came within the send timeout). Opens of one target
     * and sender at the same time share one future.
     */
    public CompletableFuture<Void> openAsync(String target, int sender) {
        String key = publisherKey(target, sender);
        if (publishers.containsKey(key)) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (opening) {
            CompletableFuture<Void> inFlight = opening.get(key);
            if (inFlight != null) {
                return inFlight;
            }
            CompletableFuture<Void> opened = new CompletableFuture<>();
            opening.put(key, opened);
            try {
                opener.execute(() -> {
                    try {
                        publishers.computeIfAbsent(key, k -> open(target, sender));
                        opened.complete(null);
                    } catch (RuntimeException e) {
                        opened.completeExceptionally(e);
                    } finally {
                        opening.remove(key, opened);
                    }
                });
            } catch (RejectedExecutionException e) {
                opening.remove(key, opened);
                opened.completeExceptionally(new IllegalStateException("the data plane at " + endpoint
                        + " is closed: no publication to " + target + " opens", e));
            }
            return opened;
        }
    }

    private static String publisherKey(String target, int sender) {
        return target + "#" + sender;
    }

    /**
     * Like {@link #send}, but fails at once, without waiting, when nobody receives at {@code target}
     * (its node is gone or stopped). A shard answering parameter requests uses this: waiting on a
     * dead trainer would hold up every trainer that is alive.
     *
     * @throws OfferFailedException when the publication to {@code target} has no subscriber, or a
     *     frame cannot be sent within the send timeout
     */
    public void sendIfConnected(String target, FrameType type, int sender, int shard, int tensor, long stepOrVersion,
                                float[] src, int srcOffset, int length) {
        sendIfConnected(target, type, sender, shard, tensor, stepOrVersion, src, srcOffset, length, Encoding.FLOAT32,
                null);
    }

    /**
     * Like {@link #sendIfConnected(String, FrameType, int, int, int, long, float[], int, int)}, the values in
     * {@code encoding}, {@code residual} as in {@link #send(String, FrameType, int, int, int, long, float[], int,
     * int, Encoding, float[])}.
     */
    public void sendIfConnected(String target, FrameType type, int sender, int shard, int tensor, long stepOrVersion,
                                float[] src, int srcOffset, int length, Encoding encoding, float[] residual) {
        if (faults.isCutOff(target)) {
            return;
        }
        FramePublisher p = publishers.computeIfAbsent(publisherKey(target, sender), key -> open(target, sender));
        if (!p.publication().isConnected()) {
            throw new OfferFailedException("nobody receives at data-plane endpoint " + target
                    + " (its node stopped, left or is paused)", Publication.NOT_CONNECTED);
        }
        sendOn(p, type, shard, tensor, stepOrVersion, src, srcOffset, length, encoding, residual);
    }

    /** Sends on {@code p}, then paces by the payload bytes that went out (fewer for compressed frames). */
    private void sendOn(FramePublisher p, FrameType type, int shard, int tensor, long stepOrVersion, float[] src,
                        int srcOffset, int length, Encoding encoding, float[] residual) {
        int frames;
        long bytes;
        synchronized (p) {
            long before = p.bytesSent();
            try {
                frames = p.send(type, shard, tensor, stepOrVersion, src, srcOffset, length, 0, encoding, residual);
            } finally {
                bytes = p.bytesSent() - before;
                bytesSent.addAndGet(bytes);
            }
        }
        faults.pace(bytes - (long) frames * FrameHeader.HEADER_LENGTH);
    }

    private FramePublisher open(String target, int sender) {
        int colon = target.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("data-plane endpoint '" + target + "' is not host:port");
        }
        String channel = target.equals(endpoint) ? DataPlane.IPC_CHANNEL
                : DataPlane.udpChannel(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
        FrameAuth.Signer signer = auth == null ? null : awaitSigner(target);
        ExclusivePublication pub = dataPlane.addPublication(channel, STREAM_ID);
        try {
            DataPlane.awaitConnected(pub, sendTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new FramePublisher(pub, runId, sender, Math.min(FramePublisher.DEFAULT_MAX_FRAME_LENGTH, pub.maxMessageLength()),
                sendTimeout, new SleepingMillisIdleStrategy(1), null, signer);
    }

    /** Names the threads of {@link #opener}: daemons, so that they never keep a JVM up. */
    private static final class OpenerThreads implements ThreadFactory {
        private final AtomicLong count = new AtomicLong();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "data-plane-opener-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }

    /** The key for {@code target} comes with its node's membership, which may lag a message naming it. */
    private FrameAuth.Signer awaitSigner(String target) {
        long deadline = System.nanoTime() + sendTimeout.toNanos();
        while (true) {
            FrameAuth.Signer signer = auth.signerFor(target);
            if (signer != null) {
                return signer;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new OfferFailedException("no data-plane key for " + target + " after " + sendTimeout
                        + ": no cluster member published one for that endpoint (it left, or it runs with"
                        + " tributary.data-plane.authenticate = off while this node has it on)", Publication.NOT_CONNECTED);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OfferFailedException("interrupted while waiting for the data-plane key of " + target,
                        Publication.NOT_CONNECTED);
            }
        }
    }

    /** This node's frame authentication, or null when it is off. */
    public FrameAuth auth() {
        return auth;
    }

    /**
     * A node that receives at {@code endpoint} published {@code publicKeyText} (its membership on the
     * control plane says so): frames to it are signed, and its frames accepted, under the key the two
     * agree; it may send every kind of frame ({@link FrameGrants#ALL_ROLES}). Does nothing when
     * authentication is off.
     */
    public void peerJoined(String endpoint, String publicKeyText) {
        peerJoined(endpoint, publicKeyText, FrameGrants.ALL_ROLES);
    }

    /**
     * As {@link #peerJoined(String, String)}, the node holding {@code roles} (its certificate's: coordinator,
     * ps, trainer; other names are ignored): gradients are taken only from trainer nodes, parameters only
     * from ps nodes ({@link FrameGrants}).
     */
    public void peerJoined(String endpoint, String publicKeyText, java.util.Set<String> roles) {
        peerJoined(endpoint, publicKeyText, FrameGrants.roleBits(roles));
    }

    private void peerJoined(String endpoint, String publicKeyText, int roleBits) {
        if (auth != null) {
            // grants before the key: a frame verified under the key must find its signer's roles
            grants.peer(endpoint, publicKeyText, roleBits);
            auth.addPeer(endpoint, publicKeyText);
        }
    }

    /** The node at {@code endpoint} left: its frames are dropped from now on and its publications closed. */
    public void peerLeft(String endpoint) {
        if (auth != null && !endpoint.equals(this.endpoint)) {
            auth.removePeer(endpoint);
            grants.remove(endpoint);
        }
        forget(endpoint);
    }

    /**
     * The trainers of quorum generation {@code generation} and where each receives (the coordinator's
     * roster, carried by the shards' quorum): a trainer node's gradients are taken for its own id only.
     * An older generation than the latest changes nothing. Does nothing when authentication is off.
     */
    public void grantTrainers(long generation, java.util.Map<Integer, String> endpoints) {
        if (grants != null) {
            grants.trainers(generation, endpoints);
        }
    }

    /** What each peer may send, or null when authentication is off. */
    public FrameGrants grants() {
        return grants;
    }

    /**
     * Drops and closes the publications to {@code target} (the node left): each holds a log buffer
     * in the media driver and would otherwise keep retrying a dead peer. The next send reconnects.
     */
    public void forget(String target) {
        String prefix = target + "#";
        publishers.entrySet().removeIf(e -> {
            if (!e.getKey().startsWith(prefix)) {
                return false;
            }
            e.getValue().publication().close();
            return true;
        });
    }

    /** The publications open to {@code target} (tests). */
    java.util.List<io.aeron.Publication> publicationsTo(String target) {
        String prefix = target + "#";
        java.util.List<io.aeron.Publication> out = new java.util.ArrayList<>();
        publishers.forEach((k, p) -> {
            if (k.startsWith(prefix)) {
                out.add(p.publication());
            }
        });
        return out;
    }

    @Override
    public void close() {
        opener.shutdownNow(); // an open in progress is interrupted: its future completes exceptionally or with a closed publication
        runner.close();
        for (FramePublisher p : publishers.values()) {
            p.publication().close();
        }
        dataPlane.close();
    }

    /** Polls both subscriptions on the one receiver thread. */
    private final class BothReceivers implements org.agrona.concurrent.Agent {
        @Override
        public int doWork() {
            return receiver.doWork() + ipcReceiver.doWork();
        }

        @Override
        public String roleName() {
            return RECEIVER_THREAD;
        }
    }

    /** Receiver-thread routing: no allocation, no lock on the way to a slot. */
    private final class Router implements FrameSink {
        @Override
        public void onGradient(int sender, int shard, int tensor, long step, int elementOffset, DirectBuffer buffer,
                               int payloadOffset, int floatCount) {
            if (faults.isCutOff()) {
                return;
            }
            ContributionSlots s = shards.get(shard);
            if (s != null) {
                s.onChunk(sender, step, elementOffset, buffer, payloadOffset, floatCount);
            }
        }

        @Override
        public void onParameters(int sender, int shard, int tensor, long version, int elementOffset, DirectBuffer buffer,
                                 int payloadOffset, int floatCount) {
            if (faults.isCutOff()) {
                return;
            }
            ParameterAssembler a = tensor >= 0 && tensor < REPLICAS ? replicas.get(tensor) : null;
            if (a != null) {
                a.onChunk(shard, version, elementOffset, buffer, payloadOffset, floatCount);
            }
        }
    }
}
