package io.tributary.node;

import io.tributary.protocol.NodeProtocol.AdmissionDenied;
import io.tributary.tls.ClusterCertificates;
import io.tributary.tls.PeerCertificates;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.Identify;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The node's root actor: logs membership and reachability, keeps the membership metrics, and
 * checks that every member speaks this node's protocol version. The cluster's version is that of
 * its oldest Up member; a node of another version logs one line and leaves on its own.
 *
 * <p>With mutual TLS on, it also checks every other member's claimed roles against the
 * certificate that member presented when this node connected to it ({@link PeerCertificates}):
 * a member claiming a role (coordinator, ps, trainer) its certificate does not grant is downed, told
 * why by the ps and coordinator nodes ({@link AdmissionDenied}, which its own guardian logs), and this
 * node logs why. Until
 * this node has the member's certificate it dials the member (a TLS handshake shows the certificate);
 * a member whose certificate it still lacks after {@link #ROLE_CHECK_ATTEMPTS} tries is downed too
 * (fail closed), with the reason in one line.
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

    /** Every {@link #REVOCATION_CHECK}: downs members whose certificate the operator has revoked since. */
    private enum CheckRevocations implements Command {
        TICK
    }

    /** How often the revocation list is read again and the members' certificates compared with it. */
    static final Duration REVOCATION_CHECK = Duration.ofSeconds(2);

    /** Check a member's roles against its certificate (again, until this node has connected to it). */
    private record CheckRoles(Address member, int attempt) implements Command {
    }

    /** The name of the child that receives {@link AdmissionDenied} ({@code /user/admission}). */
    static final String ADMISSION = "admission";
    private static final Duration ROLE_CHECK_RETRY = Duration.ofMillis(500);
    static final int ROLE_CHECK_ATTEMPTS = 60;

    /** Why this node shut itself down: it speaks another protocol version than the cluster. */
    record ProtocolMismatch(String message) implements CoordinatedShutdown.Reason {
    }

    /** Why this node shut itself down: a member refused it ({@link AdmissionDenied}) and said why. */
    record Refused(String message) implements CoordinatedShutdown.Reason {
    }

    private final ActorContext<Command> context;
    private final NodeMetrics metrics;
    private final int protocolVersion;
    private final boolean tls;
    private final Set<Address> roleChecks = new HashSet<>();
    private final Set<Address> revokedDowned = new HashSet<>();

    private NodeGuardian(ActorContext<Command> context, NodeMetrics metrics, int protocolVersion, boolean tls) {
        this.context = context;
        this.metrics = metrics;
        this.protocolVersion = protocolVersion;
        this.tls = tls;
    }

    /**
     * @param tls     whether members' roles are checked against their certificates
     * @param refusal receives the reason when another member refuses this node
     */
    static Behavior<Command> create(NodeMetrics metrics, int protocolVersion, boolean tls, AtomicReference<String> refusal) {
        return Behaviors.setup(context -> {
            context.spawn(Behaviors.<AdmissionDenied>setup(own -> Behaviors.receive(AdmissionDenied.class)
                    .onMessage(AdmissionDenied.class, d -> {
                        refusal.set(d.reason() + " (said " + d.by() + ")");
                        own.getLog().error("this node was refused by {}: {}; shutting down", d.by(), d.reason());
                        // leave at once rather than wait for the gossip that says this node is down: the refusing
                        // member may remove it before that gossip reaches it, and then nothing else would stop it
                        CoordinatedShutdown.get(own.getSystem()).runAll(new Refused(d.reason() + " (said " + d.by() + ")"));
                        return Behaviors.same();
                    }).build()), ADMISSION);
            Cluster cluster = Cluster.get(context.getSystem());
            ActorRef<ClusterEvent.MemberEvent> members =
                    context.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new);
            ActorRef<ClusterEvent.ReachabilityEvent> reachability =
                    context.messageAdapter(ClusterEvent.ReachabilityEvent.class, ReachabilityChanged::new);
            cluster.subscriptions().tell(Subscribe.create(members, ClusterEvent.MemberEvent.class));
            cluster.subscriptions().tell(Subscribe.create(reachability, ClusterEvent.ReachabilityEvent.class));
            if (tls) {
                context.scheduleOnce(REVOCATION_CHECK, context.getSelf(), CheckRevocations.TICK);
            }
            return new NodeGuardian(context, metrics, protocolVersion, tls).running(Map.of(), false);
        });
    }

    /** @param members every known member by address; @param leaving true once this node decided to leave */
    private Behavior<Command> running(Map<Address, Member> members, boolean leaving) {
        return Behaviors.receive(Command.class)
                .onMessage(MemberChanged.class, m -> onMember(m.event(), members, leaving))
                .onMessage(ReachabilityChanged.class, r -> onReachability(r.event()))
                .onMessage(CheckRoles.class, c -> checkRoles(c, members))
                .onMessage(CheckRevocations.class, c -> checkRevocations(members))
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
        boolean self = member.address().equals(Cluster.get(context.getSystem()).selfMember().address());
        if (tls && !self && !(event instanceof ClusterEvent.MemberRemoved) && roleChecks.add(member.address())) {
            context.getSelf().tell(new CheckRoles(member.address(), 1));
        }
        if (event instanceof ClusterEvent.MemberRemoved) {
            roleChecks.remove(member.address());
        }
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

    /**
     * Compares the roles {@code c.member()} claims with those its certificate grants; downs it
     * when it claims more. Tries again while this node has not yet connected to it.
     */
    private Behavior<Command> checkRoles(CheckRoles c, Map<Address, Member> members) {
        Member member = members.get(c.member());
        if (member == null || !roleChecks.contains(c.member())) {
            return Behaviors.same();
        }
        Optional<X509Certificate> cert = PeerCertificates.get(context.getSystem())
                .of(c.member().getHost().orElse(""), c.member().getPort().orElse(-1));
        RoleVerdict verdict = judgeRoles(c.member(), member.getRoles(), cert, c.attempt(),
                Cluster.get(context.getSystem()).selfMember().address());
        switch (verdict.kind()) {
            case RETRY -> {
                // nothing may have made this node dial it yet: dialling is what shows its certificate
                dial(context.getSystem(), c.member());
                context.scheduleOnce(ROLE_CHECK_RETRY, context.getSelf(), new CheckRoles(c.member(), c.attempt() + 1));
            }
            case HOLDS -> context.getLog().info("{}", verdict.text());
            case REFUSE -> {
                metrics.memberEvent("refused");
                refuse(context.getSystem(), c.member(), verdict.text(), verdict.advice());
            }
        }
        return Behaviors.same();
    }

    /** What a role check concludes: try again later, the member holds its roles, or refuse it (downed). */
    record RoleVerdict(Kind kind, String text, String advice) {
        enum Kind { RETRY, HOLDS, REFUSE }
    }

    /**
     * The role check of {@code member}, claiming {@code roles}, at try {@code attempt} (from 1) of
     * {@link #ROLE_CHECK_ATTEMPTS}: while this node has not seen its certificate, try again; after the last try
     * without one, refuse it (fail closed: a member whose certificate this node never saw may claim anything);
     * with one, refuse it when it claims a role ({@link ClusterCertificates#KNOWN_ROLES}) the certificate does not
     * grant.
     */
    static RoleVerdict judgeRoles(Address member, Set<String> roles, Optional<X509Certificate> cert, int attempt,
                                  Address self) {
        if (cert.isEmpty()) {
            if (attempt < ROLE_CHECK_ATTEMPTS) {
                return new RoleVerdict(RoleVerdict.Kind.RETRY, "", null);
            }
            return new RoleVerdict(RoleVerdict.Kind.REFUSE, "member " + member + " did not show this node (" + self
                    + ") its TLS certificate within " + ROLE_CHECK_RETRY.multipliedBy(ROLE_CHECK_ATTEMPTS).toSeconds()
                    + " s of dialling it, so its roles cannot be checked",
                    "check that its canonical address is reachable from every member");
        }
        Set<String> claimed = new TreeSet<>();
        for (String role : roles) {
            if (ClusterCertificates.KNOWN_ROLES.contains(role)) {
                claimed.add(role);
            }
        }
        Set<String> granted = ClusterCertificates.grantedRoles(cert.get());
        Set<String> excess = new TreeSet<>(claimed);
        excess.removeAll(granted);
        if (excess.isEmpty()) {
            return new RoleVerdict(RoleVerdict.Kind.HOLDS, "member " + member + " ("
                    + ClusterCertificates.subjectName(cert.get()) + ") holds roles " + claimed
                    + " within its certificate's " + granted, null);
        }
        return new RoleVerdict(RoleVerdict.Kind.REFUSE, "member " + member + " claims roles " + claimed
                + " but its certificate " + ClusterCertificates.subjectName(cert.get()) + " grants only " + granted
                + " (not " + excess + ")",
                "the operator can sign it a certificate with those roles (tributary certs sign --roles ...)");
    }

    /** Downs every member whose recorded certificate is on this node's revocation list. */
    private Behavior<Command> checkRevocations(Map<Address, Member> members) {
        PeerCertificates peers = PeerCertificates.get(context.getSystem());
        Address self = Cluster.get(context.getSystem()).selfMember().address();
        peers.revocations().ifPresent(list -> {
            for (Address a : members.keySet()) {
                if (a.equals(self) || revokedDowned.contains(a)) {
                    continue;
                }
                Optional<X509Certificate> cert = peers.of(a.getHost().orElse(""), a.getPort().orElse(-1));
                Optional<String> line = cert.flatMap(list::reason);
                if (line.isPresent()) {
                    revokedDowned.add(a);
                    String reason = "member " + a + " holds certificate " + ClusterCertificates.subjectName(cert.get())
                            + ", which the cluster's operator revoked (" + line.get() + ")";
                    metrics.memberEvent("refused");
                    refuse(context.getSystem(), a, reason, null);
                }
            }
        });
        revokedDowned.retainAll(members.keySet());
        context.scheduleOnce(REVOCATION_CHECK, context.getSelf(), CheckRevocations.TICK);
        return Behaviors.same();
    }

    /**
     * Downs {@code member} for {@code reason}: one ERROR line here ({@code reason}: downing it[; {@code advice}]),
     * and, from a ps or coordinator node, the member is told ({@link AdmissionDenied}, which its own guardian
     * logs before it shuts down). A trainer node does not tell: a refusal shuts its receiver down, so only
     * operator-run roles may send one (docs/security.md, control-plane authorization), and every ps and
     * coordinator node checks the same member and tells it.
     */
    static void refuse(ActorSystem<?> system, Address member, String reason, String advice) {
        Cluster cluster = Cluster.get(system);
        org.slf4j.LoggerFactory.getLogger(NodeGuardian.class).error("{}: downing it{}", reason,
                advice == null ? "" : "; " + advice);
        Set<String> own = cluster.selfMember().getRoles();
        if (own.contains("ps") || own.contains("coordinator")) {
            system.classicSystem().actorSelection(member + "/user/" + ADMISSION)
                    .tell(new AdmissionDenied(cluster.selfMember().address().toString(), reason),
                            org.apache.pekko.actor.ActorRef.noSender());
        }
        cluster.manager().tell(new Down(member));
    }

    /**
     * Sends {@code member}'s admission actor a classic {@link Identify}: Artery opens this node's outbound
     * TLS connection to the member's canonical address for it, and that handshake records the certificate
     * the address presents ({@link PeerCertificates}). The answer is not needed.
     */
    static void dial(ActorSystem<?> system, Address member) {
        system.classicSystem().actorSelection(member + "/user/" + ADMISSION)
                .tell(new Identify("tls-dial"), org.apache.pekko.actor.ActorRef.noSender());
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
