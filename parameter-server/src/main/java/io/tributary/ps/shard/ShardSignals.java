package io.tributary.ps.shard;

import io.tributary.protocol.ShardProtocol.ShardCommand;

/** Messages a shard sends itself: from the data plane's receiver thread, and its timers. */
final class ShardSignals {

    private ShardSignals() {
    }

    /** A trainer's gradient for {@code step} is complete in its slot (from the receiver thread). */
    record ContributionComplete(int trainer, long step) implements ShardCommand {
    }

    /** The sync deadline of {@code step} passed. */
    record DeadlineReached(long step) implements ShardCommand {
    }

    /** Gradients of {@code step} that trainers waiting for the next version have not sent: ask again. */
    record ResendCheck(long step) implements ShardCommand {
    }

    /**
     * The data plane opened the publication to {@code endpoint} for this shard's frames ({@code failure}
     * null), or could not ({@code failure} says why): requests parked on it go on (from the opener thread).
     */
    record PublicationOpened(String endpoint, String failure) implements ShardCommand {
    }

    /** Tell the coordinator again that this incarnation waits for its word. */
    record AnnounceTick() implements ShardCommand {
    }
}
