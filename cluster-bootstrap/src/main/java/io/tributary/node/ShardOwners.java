package io.tributary.node;

import io.tributary.dataplane.FrameGrants;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.dataplane.ShardOwnerKnown;
import io.tributary.ps.shard.ParameterShard;
import io.tributary.trainer.cluster.TrainerActor;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.IntFunction;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.HashCodeMessageExtractor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node's {@link FrameGrants#owners}: which ps node owns each parameter shard, as cluster sharding has
 * placed it, so that a replica here (a trainer's, the coordinator's evaluation replica) takes a shard's parameters
 * only from its owner (issue 15, frame authorization).
 *
 * <p>Where the owners come from: the cluster's shard regions, asked through Pekko's {@code
 * GetClusterShardingStats}, which the sharding coordinator passes to every region (each ps node's region answers with the sharding shards it hosts; a Tributary shard
 * {@code k} is the entity {@code "k"}, in the sharding shard the default extractor hashes it to). The answer is
 * asked every {@link #REFRESH} and at once (within {@link #TICK}) when frames of a shard were refused as
 * {@code not_owner} ({@link FrameGrants#takeMissedOwners}): the owner was not known yet, or the shard moved.
 * Each shard whose owner became known or changed is published on the event stream as {@link ShardOwnerKnown},
 * so that whoever waits on its parameters asks again (the refused frames are gone).
 *
 * <p>An empty answer (Pekko's when any region fails to answer in time, as an unreachable node does until it is
 * downed) changes nothing. A sharding shard that two regions claim in one answer (a move seen half-way) keeps its previous owner if
 * that is one of them, and has none otherwise until an answer names one. What this trusts: the regions' own
 * answers, that is, every ps node's Pekko; a ps node whose software lies about the shards it hosts is not
 * caught here (docs/security.md).
 */
final class ShardOwners {

    private static final Logger LOG = LoggerFactory.getLogger(ShardOwners.class);

    /** How often the owners are asked when nothing was refused. */
    static final Duration REFRESH = Duration.ofSeconds(2);
    /** How soon a refusal makes them asked again. */
    static final Duration TICK = Duration.ofMillis(100);
    /** How long the regions have to answer one question. */
    static final Duration ASK_TIMEOUT = Duration.ofSeconds(2);

    private interface Command {
    }

    private enum Tick implements Command { INSTANCE }

    private record Answer(ShardRegion.ClusterShardingStats stats) implements Command {
    }

    private final ActorContext<Command> ctx;
    private final FrameGrants grants;
    private final NodeDataPlane plane;
    private final Map<String, Address> endpointOwners;
    private final String[] shardIdOf;
    private String[] owners;
    private boolean asking;
    private long lastAskNanos;
    private final Set<Integer> missed = new HashSet<>();
    private final Set<String> conflictsLogged = new HashSet<>();

    private ShardOwners(ActorContext<Command> ctx, NodeDataPlane plane, Map<String, Address> endpointOwners,
                        int shardCount, int numberOfShards) {
        this.ctx = ctx;
        this.plane = plane;
        this.grants = Objects.requireNonNull(plane.grants(), "grants");
        this.endpointOwners = endpointOwners;
        HashCodeMessageExtractor<Object> extractor = new HashCodeMessageExtractor<>(numberOfShards);
        this.shardIdOf = new String[shardCount];
        for (int k = 0; k < shardCount; k++) {
            shardIdOf[k] = extractor.shardId(TrainerActor.entityId(k));
        }
        this.owners = new String[shardCount];
        grants.owners(owners); // nobody's parameters until an answer names the owners
    }

    /**
     * Starts keeping {@code plane}'s shard owners on {@code system}.
     *
     * @param endpointOwners which member announced each data-plane endpoint ({@link DataPlanePeers})
     * @param numberOfShards {@code pekko.cluster.sharding.number-of-shards}, which the default extractor hashes by
     */
    static void start(ActorSystem<?> system, NodeDataPlane plane, Map<String, Address> endpointOwners, int shardCount,
                      int numberOfShards) {
        system.systemActorOf(Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers -> {
            ShardOwners owners = new ShardOwners(ctx, plane, endpointOwners, shardCount, numberOfShards);
            return owners.running(timers);
        })), "shard-owners", Props.empty());
    }

    private Behavior<Command> running(TimerScheduler<Command> timers) {
        timers.startTimerWithFixedDelay(Tick.INSTANCE, TICK);
        ask();
        return Behaviors.receive(Command.class)
                .onMessageEquals(Tick.INSTANCE, this::onTick)
                .onMessage(Answer.class, this::onAnswer)
                .build();
    }

    private Behavior<Command> onTick() {
        for (int k : grants.takeMissedOwners()) {
            missed.add(k);
        }
        boolean due = System.nanoTime() - lastAskNanos >= REFRESH.toNanos();
        if (!asking && (due || !missed.isEmpty())) {
            ask();
        } else if (asking && System.nanoTime() - lastAskNanos > 2 * ASK_TIMEOUT.toNanos()) {
            LOG.warn("the shard regions did not answer who owns the parameter shards within {}; asking again",
                    2 * ASK_TIMEOUT.toSeconds() + " s");
            ask();
        }
        return Behaviors.same();
    }

    private void ask() {
        asking = true;
        lastAskNanos = System.nanoTime();
        // to the classic region (or proxy) itself: the typed shardState() answers nothing on a node that only
        // proxies the shards (a trainer node, the coordinator's); the region passes the question to the sharding
        // coordinator, which asks every hosting region
        org.apache.pekko.cluster.sharding.ClusterSharding.get(Adapter.toClassic(ctx.getSystem()))
                .shardRegion(ParameterShard.KEY.name())
                .tell(new ShardRegion.GetClusterShardingStats(scala.concurrent.duration.FiniteDuration.apply(
                        ASK_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)),
                        Adapter.toClassic(ctx.messageAdapter(ShardRegion.ClusterShardingStats.class, Answer::new)));
    }

    private Behavior<Command> onAnswer(Answer a) {
        asking = false;
        if (a.stats().getRegions().isEmpty()) {
            // Pekko answers nothing at all when any one region did not answer in time (a node unreachable, until
            // it is downed): that says nothing about the others, so the owners stay as they were
            LOG.debug("the shard regions' answer was empty (one of them did not answer in time): owners unchanged");
            return Behaviors.same();
        }
        Map<Address, Set<String>> claims = new HashMap<>();
        for (Map.Entry<Address, ShardRegion.ShardRegionStats> e : a.stats().getRegions().entrySet()) {
            claims.put(e.getKey(), e.getValue().getStats().keySet());
        }
        Map<Address, String> endpointOf = new HashMap<>();
        for (Map.Entry<String, Address> e : endpointOwners.entrySet()) {
            endpointOf.put(e.getValue(), e.getKey());
        }
        Address self = ctx.getSystem().address();
        endpointOf.put(self, plane.endpoint());
        Resolved r = resolve(owners, k -> shardIdOf[k], claims, endpointOf);
        for (String conflict : r.conflicts()) {
            if (conflictsLogged.add(conflict)) {
                LOG.warn("{}", conflict);
            }
        }
        boolean changed = false;
        for (int k = 0; k < owners.length; k++) {
            String now = r.owners()[k];
            if (!Objects.equals(now, owners[k])) {
                changed = true;
                if (owners[k] != null && now != null) {
                    LOG.info("parameter shard {} is owned by {} now (was {}): its parameters are taken from there", k,
                            now, owners[k]);
                }
            }
        }
        String[] before = owners;
        owners = r.owners();
        if (changed) {
            grants.owners(owners);
            LOG.info("parameter shard owners (by data-plane endpoint, null: not known): {} (regions answered: {})",
                    java.util.Arrays.toString(owners), claims);
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("parameter shard owners unchanged: {} (regions answered: {})", java.util.Arrays.toString(owners),
                    claims);
        }
        for (int k = 0; k < owners.length; k++) {
            if (owners[k] != null && (!owners[k].equals(before[k]) || missed.contains(k))) {
                ctx.getSystem().eventStream().tell(new EventStream.Publish<>(new ShardOwnerKnown(k)));
                missed.remove(k);
            }
        }
        return Behaviors.same();
    }

    /** Who owns each shard, and a line for each sharding shard two regions claimed. */
    record Resolved(String[] owners, java.util.List<String> conflicts) {
    }

    /**
     * The owner endpoint of each Tributary shard: the endpoint of the one region whose answer lists
     * {@code shardIdOf(k)}; when several do, the previous owner if it is one of them, else none; when none does
     * (the shard is not placed yet, or its node is gone), none.
     *
     * @param previous   the owners so far (null entries: not known)
     * @param claims     the sharding shards each region said it hosts
     * @param endpointOf the data-plane endpoint of each member (a region whose member announced none names none)
     */
    static Resolved resolve(String[] previous, IntFunction<String> shardIdOf, Map<Address, Set<String>> claims,
                            Map<Address, String> endpointOf) {
        String[] owners = new String[previous.length];
        java.util.List<String> conflicts = new java.util.ArrayList<>();
        for (int k = 0; k < previous.length; k++) {
            String shardId = shardIdOf.apply(k);
            java.util.List<String> claimants = new java.util.ArrayList<>();
            java.util.List<Address> regions = new java.util.ArrayList<>();
            for (Map.Entry<Address, Set<String>> e : claims.entrySet()) {
                if (e.getValue().contains(shardId)) {
                    regions.add(e.getKey());
                    claimants.add(endpointOf.get(e.getKey()));
                }
            }
            if (claimants.size() == 1) {
                owners[k] = claimants.get(0);
            } else if (claimants.size() > 1) {
                owners[k] = previous[k] != null && claimants.contains(previous[k]) ? previous[k] : null;
                regions.sort(java.util.Comparator.comparing(Address::toString));
                conflicts.add("parameter shard " + k + " (sharding shard " + shardId + ") is claimed by " + regions.size()
                        + " regions " + regions + " in one answer: its parameters are taken from "
                        + (owners[k] == null ? "nobody" : owners[k]) + " until one region holds it");
            }
        }
        return new Resolved(owners, conflicts);
    }
}
