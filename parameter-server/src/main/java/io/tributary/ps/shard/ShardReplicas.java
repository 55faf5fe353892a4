package io.tributary.ps.shard;

import io.tributary.kernels.Backend;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.protocol.CoordinatorProtocol.ShardCommitted;
import io.tributary.protocol.ShardLayout;
import io.tributary.protocol.ShardProtocol.HandOverAck;
import io.tributary.protocol.ShardProtocol.PromoteReplicas;
import io.tributary.protocol.ShardProtocol.ReplicaAck;
import io.tributary.protocol.ShardProtocol.ReplicaCommit;
import io.tributary.protocol.ShardProtocol.ShardCommand;
import io.tributary.protocol.ShardProtocol.StateChunk;
import io.tributary.protocol.StateKind;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A ps node's store of replicas: for each shard owned on another ps node that chose this one
 * ({@link ParameterShard}'s replication), a {@link ReplicaMirror} kept at the owner's version step by
 * step. When the coordinator says the owner's node was removed ({@link PromoteReplicas}) it sends each
 * such replica to the coordinator as the dead owner's hand-over, so that the shard's next incarnation
 * goes on from the version its owner last announced: no rollback, no step done again.
 *
 * <p>What it takes on trust: a replica's pieces come from a ps node (control-message signatures and
 * {@code ControlAuthorization}), as a shard's state does in a hand-over; it does not check that the
 * sender owns the shard (docs/security.md).
 */
public final class ShardReplicas extends AbstractBehavior<ShardCommand> {

    /** Every ps node's store registers under this key; owners pick their replicas from the listing. */
    public static final ServiceKey<ShardCommand> KEY = ServiceKey.create(ShardCommand.class, "ps-replicas");

    private final long runId;
    private final ShardSettings settings;
    private final ShardLayout layout;
    private final Backend backend = CpuBackend.create();
    private final Map<Integer, ReplicaMirror> mirrors = new HashMap<>();

    public static Behavior<ShardCommand> create(long runId, ShardSettings settings, ShardLayout layout) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            return new ShardReplicas(ctx, runId, settings, layout);
        });
    }

    private ShardReplicas(ActorContext<ShardCommand> ctx, long runId, ShardSettings settings, ShardLayout layout) {
        super(ctx);
        this.runId = runId;
        this.settings = settings;
        this.layout = layout;
    }

    @Override
    public Receive<ShardCommand> createReceive() {
        return newReceiveBuilder()
                .onMessage(StateChunk.class, this::onChunk)
                .onMessage(ReplicaCommit.class, this::onCommit)
                .onMessage(PromoteReplicas.class, this::onPromote)
                .onMessage(HandOverAck.class, a -> this)
                .onSignal(PostStop.class, s -> {
                    mirrors.values().forEach(ReplicaMirror::close);
                    backend.close();
                    return this;
                })
                .build();
    }

    private boolean ours(long run, int shard) {
        return run == runId && shard >= 0 && shard < layout.shardCount();
    }

    private ReplicaMirror mirror(int shard) {
        return mirrors.computeIfAbsent(shard, k -> new ReplicaMirror(layout.length(k),
                ParameterShard.optimizerFor(settings, layout, k, backend)));
    }

    private Behavior<ShardCommand> onChunk(StateChunk c) {
        if (!ours(c.runId(), c.shard()) || c.replyTo() == null
                || (c.kind() != StateKind.REPLICA_STEP && c.kind() != StateKind.REPLICA_STATE)) {
            getContext().getLog().warn("replicas: ignored {} (not a replica piece of run {} with {} shards)", c, runId,
                    layout.shardCount());
            return this;
        }
        ReplicaMirror m = mirror(c.shard());
        switch (m.offer(c, backend)) {
            case HELD -> c.replyTo().tell(new ReplicaAck(runId, c.shard(), c.owner(), m.version(), false,
                    getContext().getSelf()));
            case NEEDS_STATE -> {
                getContext().getLog().info("replica of shard {}: holds version {} of {}, a step from version {} of {}"
                        + " came: asking for the whole state", c.shard(), m.version(), m.owner(), c.version(), c.owner());
                c.replyTo().tell(new ReplicaAck(runId, c.shard(), c.owner(), m.version(), true, getContext().getSelf()));
            }
            case REFUSED -> getContext().getLog().error("replica of shard {}: a piece from {} does not fit ({} parts, "
                    + "[{}, +{}) of {} parameters): set the same tributary.optimizer and shards on every ps node; ignored",
                    c.shard(), c.owner(), c.parts(), c.offset(), c.values().length, layout.length(c.shard()));
            case PENDING -> {
            }
        }
        return this;
    }

    private Behavior<ShardCommand> onCommit(ReplicaCommit r) {
        ShardCommitted c = r.commit();
        if (ours(r.runId(), c.shard())) {
            mirror(c.shard()).keep(c);
        }
        return this;
    }

    private Behavior<ShardCommand> onPromote(PromoteReplicas p) {
        if (p.runId() != runId) {
            return this;
        }
        for (int k : p.shards()) {
            ReplicaMirror m = mirrors.get(k);
            if (m == null || m.owner() == null || !m.owner().startsWith(p.ownerPrefix())) {
                continue;
            }
            ShardCommitted last = m.commitOfHeldVersion();
            getContext().getLog().warn("replica of shard {}: its owner {} is gone; offering version {} ({} optimizer "
                    + "steps) to the coordinator as its hand-over", k, m.owner(), m.version(), m.optimizer().steps());
            if (last != null) {
                p.coordinator().tell(new ReplicaCommit(runId, last));
            }
            for (StateChunk piece : m.handOver(runId, k, backend, getContext().getSelf())) {
                p.coordinator().tell(piece);
            }
        }
        return this;
    }
}
