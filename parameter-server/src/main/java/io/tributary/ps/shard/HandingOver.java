package io.tributary.ps.shard;

import io.tributary.protocol.ShardProtocol.HandOverAck;
import io.tributary.protocol.ShardProtocol.RequestParams;
import io.tributary.protocol.ShardProtocol.RollbackShard;
import io.tributary.protocol.ShardProtocol.SetQuorum;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.StateKind;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.dataplane.ContributionSlots;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * A shard's last state, when sharding moves it to another ps node: its whole state (parameters,
 * version, optimizer) goes to the coordinator, again every {@link #RESEND_EVERY} until the
 * coordinator acknowledges it, then the shard stops. Whatever the next owner needs meanwhile
 * (parameter requests, quorum changes, a rollback) is passed on to it through sharding; frames are
 * refused. It gives up after {@link #GIVE_UP_AFTER}: the next owner then waits for a rollback.
 */
final class HandingOver extends AbstractBehavior<ShardCommand> {

    static final Duration RESEND_EVERY = Duration.ofSeconds(2);
    static final Duration GIVE_UP_AFTER = Duration.ofSeconds(30);

    /** Send the handed-over state again (no acknowledgement yet). */
    record Resend() implements ShardCommand {
    }

    private final int shard;
    private final long version;
    private final String incarnation;
    private final List<StateChunk> pieces;
    private final ParameterShard.Links links;
    private final ContributionSlots slots;
    private final Runnable onStop;
    private final long startNanos = System.nanoTime();

    /**
     * @param pieces the whole state at {@code version}, as {@link ShardTransfer#statePieces} cut it
     * @param onStop what the shard releases when it stops (data-plane slots, backend)
     */
    HandingOver(ActorContext<ShardCommand> ctx, TimerScheduler<ShardCommand> timers, int shard, long version,
                String incarnation, List<StateChunk> pieces, ParameterShard.Links links, ContributionSlots slots,
                Runnable onStop) {
        super(ctx);
        this.shard = shard;
        this.version = version;
        this.incarnation = incarnation;
        this.pieces = pieces;
        this.links = links;
        this.slots = slots;
        this.onStop = onStop;
        sendState();
        timers.startTimerWithFixedDelay("hand-over", new Resend(), RESEND_EVERY);
    }

    @Override
    public Receive<ShardCommand> createReceive() {
        return newReceiveBuilder()
                .onMessage(SetQuorum.class, this::passOn)
                .onMessage(RequestParams.class, this::passOn)
                .onMessage(RollbackShard.class, this::passOn)
                .onMessage(StateChunk.class, c -> c.kind() == StateKind.ROLLBACK ? passOn(c) : this)
                .onMessage(ShardSignals.ContributionComplete.class, c -> {
                    slots.release(c.trainer());
                    return this;
                })
                .onMessage(Resend.class, r -> onResend())
                .onMessage(HandOverAck.class, this::onAck)
                .onSignal(PostStop.class, s -> {
                    onStop.run();
                    return this;
                })
                .build();
    }

    private Behavior<ShardCommand> passOn(ShardCommand m) {
        links.toEntity().accept(m); // for the next owner
        return this;
    }

    private Behavior<ShardCommand> onResend() {
        if (System.nanoTime() - startNanos > GIVE_UP_AFTER.toNanos()) {
            getContext().getLog().error("shard {}: the coordinator did not acknowledge the state of version {} within "
                    + "{} s; stopping without it: the next owner waits for the coordinator (a rollback)", shard, version,
                    GIVE_UP_AFTER.toSeconds());
            return Behaviors.stopped();
        }
        sendState();
        return this;
    }

    private Behavior<ShardCommand> onAck(HandOverAck a) {
        if (!a.owner().equals(incarnation)) {
            return this;
        }
        getContext().getLog().info("shard {}: the coordinator holds its state of version {}; stopping here", shard,
                version);
        return Behaviors.stopped();
    }

    /** Parameters (part 0) and every optimizer state vector, in chunks, to the coordinator. */
    private void sendState() {
        for (StateChunk piece : pieces) {
            links.coordinator().tell(piece);
        }
    }
}
