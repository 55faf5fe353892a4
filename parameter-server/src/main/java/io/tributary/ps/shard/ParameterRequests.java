package io.tributary.ps.shard;

import io.tributary.protocol.TrainerProtocol.ParamsSent;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.wire.Encoding;
import io.tributary.wire.FrameType;
import io.tributary.wire.OfferFailedException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import org.slf4j.Logger;

/**
 * A shard's parameters on their way out: requests wait here until the shard reaches the version
 * they ask for, then the parameters go over the data plane and the requester is told
 * ({@link ParamsSent}). A requester that cannot be reached is skipped: it asks again.
 *
 * <p>The shard's actor thread never waits for a publication to open (up to two send time-outs for
 * a new endpoint): a request to an endpoint without one is parked while the data plane opens it on
 * its own thread, and goes on when the shard is told ({@link ShardSignals.PublicationOpened},
 * {@link #opened}).
 */
final class ParameterRequests {

    private final int shard;
    private final NodeDataPlane dataPlane;
    private final float[] params;
    private final ShardMetrics metrics;
    private final Encoding encoding;
    private final Logger log;
    private final Consumer<RequestParams> afterSend;
    private final List<RequestParams> waiting = new ArrayList<>();
    private final List<RequestParams> due = new ArrayList<>();
    /** Due requests whose endpoint's publication is being opened. */
    private final List<RequestParams> parked = new ArrayList<>();
    private final Consumer<ShardSignals.PublicationOpened> onOpened;

    /**
     * @param afterSend called after each successful send (the policy may add to it)
     * @param onOpened  told (from the data plane's opener thread) when a publication a parked request
     *                  waits for opened or failed to: the shard tells itself, then calls {@link #opened}
     */
    ParameterRequests(int shard, NodeDataPlane dataPlane, float[] params, ShardMetrics metrics, Logger log,
                      Consumer<RequestParams> afterSend, Consumer<ShardSignals.PublicationOpened> onOpened) {
        this(shard, dataPlane, params, metrics, log, afterSend, onOpened, Encoding.FLOAT32);
    }

    /** @param encoding how parameters travel to trainers (the coordinator's replica always gets float32) */
    ParameterRequests(int shard, NodeDataPlane dataPlane, float[] params, ShardMetrics metrics, Logger log,
                      Consumer<RequestParams> afterSend, Consumer<ShardSignals.PublicationOpened> onOpened,
                      Encoding encoding) {
        this.onOpened = onOpened;
        this.encoding = encoding;
        this.shard = shard;
        this.dataPlane = dataPlane;
        this.params = params;
        this.metrics = metrics;
        this.log = log;
        this.afterSend = afterSend;
    }

    /** The requests waiting for a newer version (the live list). */
    List<RequestParams> waiting() {
        return waiting;
    }

    /** A request waits for its version; one asked again (request timeout) replaces the one waiting. */
    void queue(RequestParams r) {
        waiting.removeIf(w -> w.requesterId() == r.requesterId() && w.minVersion() == r.minVersion()
                && w.endpoint().equals(r.endpoint()));
        waiting.add(r);
    }

    /** Drops the requests of trainers that are not {@code kept} (the coordinator's own, id < 0, stay); returns how many. */
    int dropTrainersBut(IntPredicate kept) {
        int before = waiting.size() + parked.size();
        waiting.removeIf(r -> r.requesterId() >= 0 && !kept.test(r.requesterId()));
        parked.removeIf(r -> r.requesterId() >= 0 && !kept.test(r.requesterId()));
        return before - waiting.size() - parked.size();
    }

    /** Hands every waiting (and parked) request to {@code next} (the shard's next owner) and forgets them; returns how many. */
    int passOn(Consumer<ShardCommand> next) {
        waiting.forEach(next);
        parked.forEach(next);
        int n = waiting.size() + parked.size();
        waiting.clear();
        parked.clear();
        return n;
    }

    void clear() {
        waiting.clear();
        parked.clear();
    }

    /** Requests parked until their endpoint's publication opens (tests). */
    int parked() {
        return parked.size();
    }

    /**
     * The publication to {@code o.endpoint()} opened (or failed to): its parked requests get the
     * shard's {@code version} when it is theirs or newer, else wait for theirs; with a failure they are
     * dropped, said in the log (the requesters ask again). {@code version} < 0: the shard serves no
     * version now (it waits for the coordinator's word, or restores), so they wait.
     */
    void opened(ShardSignals.PublicationOpened o, long version) {
        for (int i = 0; i < parked.size(); i++) {
            RequestParams r = parked.get(i);
            if (r.endpoint().equals(o.endpoint())) {
                due.add(r);
                parked.remove(i--);
            }
        }
        try {
            for (RequestParams r : due) {
                if (o.failure() != null) {
                    log.warn("shard {}: parameters not sent to {} at {}: no publication opens to it ({}); it gets them "
                            + "when it asks again", shard, requester(r), r.endpoint(), o.failure());
                } else if (version >= 0 && r.minVersion() <= version) {
                    send(r, version);
                } else {
                    queue(r);
                }
            }
        } finally {
            due.clear();
        }
    }

    private static String requester(RequestParams r) {
        return r.requesterId() < 0 ? "the coordinator" : "trainer " + r.requesterId();
    }

    /** Sends {@code version} to every request waiting for it or an older one. */
    void serve(long version) {
        if (waiting.isEmpty()) {
            return;
        }
        waiting.removeIf(r -> {
            if (r.minVersion() <= version) {
                due.add(r);
                return true;
            }
            return false;
        });
        try {
            for (RequestParams r : due) {
                send(r, version);
            }
        } finally {
            due.clear();
        }
    }

    /**
     * Sends the parameters of {@code version} to a requester. A requester that cannot be reached (its
     * node died or is paused) is skipped with a warning: it asks again after its request timeout if it
     * is alive, and the shard, its state and every other trainer go on. A failed send never fails the shard.
     */
    void send(RequestParams r, long version) {
        int sender = ParameterShard.SENDER_BASE + shard;
        if (!dataPlane.hasPublication(r.endpoint(), sender)) {
            park(r, sender);
            return;
        }
        int replica = r.requesterId() < 0 ? NodeDataPlane.COORDINATOR_REPLICA : NodeDataPlane.TRAINER_REPLICA;
        // the coordinator evaluates and checkpoints what it gets: always the exact float32 values
        Encoding as = r.requesterId() < 0 ? Encoding.FLOAT32 : encoding;
        try {
            try {
                dataPlane.sendIfConnected(r.endpoint(), FrameType.PARAMETERS, ParameterShard.SENDER_BASE + shard, shard,
                        replica, version, params, 0, params.length, as, null);
            } catch (IllegalArgumentException e) {
                if (as == Encoding.FLOAT32) {
                    throw e;
                }
                // the encoding cannot carry these values (int8: NaN, infinity or huge): float32 always can
                log.warn("shard {}: parameters of version {} cannot go as {} ({}); sending them as float32", shard,
                        version, as.configName(), e.getMessage());
                as = Encoding.FLOAT32;
                dataPlane.sendIfConnected(r.endpoint(), FrameType.PARAMETERS, ParameterShard.SENDER_BASE + shard, shard,
                        replica, version, params, 0, params.length, as, null);
            }
        } catch (OfferFailedException e) {
            log.warn("shard {}: parameters of version {} not sent to {} {} at {}: {}; it gets them "
                            + "when it asks again", shard, version, r.requesterId() < 0 ? "the coordinator" : "trainer",
                    r.requesterId() < 0 ? "" : r.requesterId(), r.endpoint(), e.getMessage());
            return;
        } catch (IllegalArgumentException e) {
            // a requester naming an endpoint that is not host:port: its request is dropped, the others go on
            log.warn("shard {}: a parameter request from {} {} names the data-plane endpoint '{}', which cannot be "
                            + "reached ({}); the request is dropped", shard,
                    r.requesterId() < 0 ? "the coordinator" : "trainer", r.requesterId() < 0 ? "" : r.requesterId(),
                    r.endpoint(), e.getMessage());
            return;
        }
        metrics.bytesSent.labelValues("parameters").inc(as.payloadBytes(params.length));
        r.replyTo().tell(new ParamsSent(shard, version, dataPlane.endpoint()));
        afterSend.accept(r);
    }

    /** Parks {@code r} until the publication to its endpoint is open; the first request to an endpoint starts the open. */
    private void park(RequestParams r, int sender) {
        boolean first = true;
        for (RequestParams p : parked) {
            first &= !p.endpoint().equals(r.endpoint());
        }
        parked.removeIf(p -> p.requesterId() == r.requesterId() && p.minVersion() == r.minVersion()
                && p.endpoint().equals(r.endpoint()));
        parked.add(r);
        if (first) {
            String endpoint = r.endpoint();
            dataPlane.openAsync(endpoint, sender).whenComplete((ok, failure) -> onOpened.accept(
                    new ShardSignals.PublicationOpened(endpoint, failure == null ? null : reason(failure))));
        }
    }

    private static String reason(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }
}
