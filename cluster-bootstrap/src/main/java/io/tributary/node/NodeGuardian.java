package io.tributary.node;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The node's root actor: logs membership and reachability, keeps the membership metrics, and
 * checks that every member speaks this node's protocol version. The cluster's version is that of
 * its oldest Up member; a node of another version logs one line and leaves on its own.
 */
final class NodeGuardian {

    /** Role tag that carries a member's protocol version, e.g. {@code proto-1}. */
    static final String PROTOCOL_ROLE_PREFIX = "proto-";

    sealed interface Command {
    }

    private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {
    }

    private record ReachabilityChanged(ClusterEvent.ReachabilityEvent event) implements Command {
    }

    /** Why this node shut itself down: it speaks another protocol version than the cluster. */
    record ProtocolMismatch(String message) implements CoordinatedShutdown.Reason {
    }

    private final ActorContext<Command> context;
    private final NodeMetrics metrics;
    private final int protocolVersion;

    private NodeGuardian(ActorContext<Command> context, NodeMetrics metrics, int protocolVersion) {
        this.context = context;
        this.metrics = metrics;
        this.protocolVersion = protocolVersion;
    }

    static Behavior<Command> create(NodeMetrics metrics, int protocolVersion) {
        return Behaviors.setup(context -> {
            Cluster cluster = Cluster.get(context.getSystem());
            ActorRef<ClusterEvent.MemberEvent> members =
                    context.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new);
            ActorRef<ClusterEvent.ReachabilityEvent> reachability =
                    context.messageAdapter(ClusterEvent.ReachabilityEvent.class, ReachabilityChanged::new);
            cluster.subscriptions().tell(Subscribe.create(members, ClusterEvent.MemberEvent.class));
            cluster.subscriptions().tell(Subscribe.create(reachability, ClusterEvent.ReachabilityEvent.class));
            return new NodeGuardian(context, metrics, protocolVersion).running(Map.of(), false);
        });
    }

    /** @param members every known member by address; @param leaving true once this node decided to leave */
    private Behavior<Command> running(Map<Address, Member> members, boolean leaving) {
        return Behaviors.receive(Command.class)
                .onMessage(MemberChanged.class, m -> onMember(m.event(), members, leaving))
                .onMessage(ReachabilityChanged.class, r -> onReachability(r.event()))
                .build();
    }

    private Behavior<Command> onMember(ClusterEvent.MemberEvent event, Map<Address, Member> members,
                                       boolean leaving) {
        Member member = event.member();
        String name = event.getClass().getSimpleName().replaceFirst("^Member", "").toLowerCase(java.util.Locale.ROOT);
        context.getLog().info("member {}: {} roles {}", name, member.address(), member.getRoles().stream()
                .map(r -> r.startsWith("dp|") ? "data-plane " + r.split("\\|")[1] : r).toList());
        metrics.memberEvent(name);
        Map<Address, Member> next = new HashMap<>(members);
        if (event instanceof ClusterEvent.MemberRemoved) {
            next.remove(member.address());
        } else {
            next.put(member.address(), member);
        }
        metrics.membersUp((int) next.values().stream().filter(NodeGuardian::isUp).count());
        boolean nowLeaving = leaving;
        if (!leaving && event instanceof ClusterEvent.MemberUp) {
            nowLeaving = checkProtocol(next);
        }
        return running(Map.copyOf(next), nowLeaving);
    }

    /** Returns true when this node speaks another version than the cluster's oldest member and leaves. */
    private boolean checkProtocol(Map<Address, Member> members) {
        Optional<Member> oldest = members.values().stream().filter(NodeGuardian::isUp)
                .reduce((a, b) -> a.isOlderThan(b) ? a : b);
        if (oldest.isEmpty()) {
            return false;
        }
        OptionalInt clusterVersion = protocolVersionOf(oldest.get());
        if (clusterVersion.isEmpty() || clusterVersion.getAsInt() == protocolVersion) {
            return false;
        }
        String message = "this node speaks Tributary protocol version " + protocolVersion + " but the cluster (oldest"
                + " member " + oldest.get().address() + ") speaks " + clusterVersion.getAsInt()
                + ": leaving the cluster; run the same Tributary release on every node";
        context.getLog().error(message);
        CoordinatedShutdown.get(context.getSystem()).runAll(new ProtocolMismatch(message));
        return true;
    }

    private Behavior<Command> onReachability(ClusterEvent.ReachabilityEvent event) {
        if (event instanceof ClusterEvent.UnreachableMember) {
            context.getLog().warn("member unreachable: {}", event.member().address());
            metrics.memberEvent("unreachable");
        } else {
            context.getLog().info("member reachable again: {}", event.member().address());
            metrics.memberEvent("reachable");
        }
        return Behaviors.same();
    }

    private static boolean isUp(Member m) {
        return m.status().equals(MemberStatus.up());
    }

    /** The version in a member's {@code proto-N} role, if it has one. */
    static OptionalInt protocolVersionOf(Member member) {
        for (String role : member.getRoles()) {
            if (role.startsWith(PROTOCOL_ROLE_PREFIX)) {
                try {
                    return OptionalInt.of(Integer.parseInt(role.substring(PROTOCOL_ROLE_PREFIX.length())));
                } catch (NumberFormatException e) {
                    return OptionalInt.empty();
                }
            }
        }
        return OptionalInt.empty();
    }
}
