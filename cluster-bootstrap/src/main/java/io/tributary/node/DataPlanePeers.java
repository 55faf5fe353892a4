package io.tributary.node;

import io.tributary.dataplane.NodeDataPlane;
import io.tributary.protocol.ControlSignatures;
import io.tributary.tls.ClusterCertificates;
import io.tributary.tls.MemberSignatures;
import io.tributary.tls.PeerCertificates;
import io.tributary.tls.TlsMaterial;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits the cluster's members into this node's data plane, from the role each publishes:
 * {@code dp|host:port|key|control-key|signature}, its data-plane endpoint, X25519 public key and
 * Ed25519 control-message key ({@link ControlSignatures}) signed with its TLS key
 * ({@link MemberSignatures#DATA_PLANE_LABEL} over its cluster host, endpoint and both keys).
 *
 * <p>With mutual TLS on, a member's endpoint and key enter the data plane only once the signature
 * verifies against the certificate the member's canonical address presented to this node
 * ({@link PeerCertificates}), and with the roles that certificate grants, never those the member
 * claims. Until this node has that certificate it dials the member and tries again (fail closed); a
 * member whose announcement its certificate's key did not sign, that announces an endpoint on
 * another host, or another certificate's endpoint, is downed with one line saying why. With TLS off
 * ({@code tributary.tls.enabled = off}) announcements are unsigned and taken at their word, with
 * the roles the member claims: unauthenticated.
 *
 * <p>An endpoint belongs to the member that announced it first; only that member's removal takes
 * its key away, and a later claim of the same certificate (a restart racing its own removal) waits.
 */
final class DataPlanePeers {

    private static final Logger LOG = LoggerFactory.getLogger(DataPlanePeers.class);

    /** Prefix of the data-plane role. */
    static final String ROLE_PREFIX = "dp|";

    /** How often, and how many times, a member whose certificate this node lacks is dialled and checked again. */
    static final Duration CERTIFICATE_RETRY = Duration.ofMillis(500);
    static final int CERTIFICATE_ATTEMPTS = NodeGuardian.ROLE_CHECK_ATTEMPTS;

    sealed interface Command {
    }

    private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {
    }

    /** Look at {@code member} again: this node may have its certificate now. */
    private record Retry(Address member, int attempt) implements Command {
    }

    /**
     * A member's data-plane role, parsed; {@code controlKey} (its control-message key, Base64) and
     * {@code signature} are null in an unsigned one.
     */
    record Announcement(String endpoint, String key, String controlKey, String signature) {
    }

    private final ActorContext<Command> context;
    private final NodeDataPlane plane;
    private final Map<String, Address> owners;
    private final TlsMaterial.Node tls;
    /** The fingerprint of each owned endpoint's certificate (TLS on). */
    private final Map<String, String> ownerCertificates = new HashMap<>();
    /** Members downed here for what they announced: downed once. */
    private final Set<Address> refused = new HashSet<>();
    /** Members waiting for this node to see their certificate, with the attempt scheduled. */
    private final Map<Address, Integer> waiting = new HashMap<>();

    private DataPlanePeers(ActorContext<Command> context, NodeDataPlane plane, Map<String, Address> owners,
                           TlsMaterial.Node tls) {
        this.context = context;
        this.plane = plane;
        this.owners = owners;
        this.tls = tls;
    }

    /**
     * Starts following the cluster's members on {@code system}.
     *
     * @param owners which member holds each endpoint (shared with whoever names a member by its endpoint)
     * @param tls    this node's TLS material; empty with TLS off (announcements unsigned)
     */
    static void follow(ActorSystem<?> system, NodeDataPlane plane, Map<String, Address> owners,
                       Optional<TlsMaterial.Node> tls) {
        system.systemActorOf(Behaviors.<Command>setup(ctx -> {
            Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
                    ctx.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new), ClusterEvent.MemberEvent.class));
            return new DataPlanePeers(ctx, plane, owners, tls.orElse(null)).following();
        }), "data-plane-peers", Props.empty());
    }

    /**
     * The role that announces {@code plane}'s endpoint and key, with TLS on also {@code controlKey}
     * (the public half of the key this node signs control messages with, {@link ControlSignatures}),
     * all signed with {@code tls}'s key.
     */
    static String role(NodeDataPlane plane, String clusterHost, Optional<TlsMaterial.Node> tls, byte[] controlKey) {
        String key = plane.auth() == null ? "-" : plane.auth().publicKeyText();
        String unsigned = ROLE_PREFIX + plane.endpoint() + "|" + key;
        if (tls.isEmpty()) {
            return unsigned;
        }
        String control = Base64.getUrlEncoder().withoutPadding().encodeToString(controlKey);
        return unsigned + "|" + control + "|" + MemberSignatures.sign(tls.get().key(), MemberSignatures.DATA_PLANE_LABEL,
                clusterHost, plane.endpoint(), key, control);
    }

    /** The announcement in {@code roles}, or empty when there is none; a malformed one is an IllegalArgumentException. */
    static Optional<Announcement> announcement(Set<String> roles) {
        for (String role : roles) {
            if (!role.startsWith(ROLE_PREFIX)) {
                continue;
            }
            String[] parts = role.substring(ROLE_PREFIX.length()).split("\\|", -1);
            if (parts.length != 2 && parts.length != 4) {
                throw new IllegalArgumentException("malformed data-plane role '" + role
                        + "' (expected dp|host:port|key or dp|host:port|key|control-key|signature; is the member of"
                        + " Tributary protocol " + io.tributary.protocol.ProtocolRegistry.PROTOCOL_VERSION + "?)");
            }
            return Optional.of(parts.length == 4 ? new Announcement(parts[0], parts[1], parts[2], parts[3])
                    : new Announcement(parts[0], parts[1], null, null));
        }
        return Optional.empty();
    }

    private Behavior<Command> following() {
        return Behaviors.receive(Command.class)
                .onMessage(MemberChanged.class, m -> {
                    if (m.event() instanceof ClusterEvent.MemberRemoved) {
                        removed(m.event().member());
                    } else {
                        consider(m.event().member(), 1);
                    }
                    return Behaviors.same();
                })
                .onMessage(Retry.class, r -> {
                    if (waiting.remove(r.member()) != null) {
                        current(r.member()).ifPresent(m -> consider(m, r.attempt()));
                    }
                    return Behaviors.same();
                })
                .build();
    }

    private Optional<Member> current(Address address) {
        for (Member m : Cluster.get(context.getSystem()).state().getMembers()) {
            if (m.address().equals(address) && m.status() != MemberStatus.removed()) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** Admits {@code member}'s announced endpoint and key once it is verified (see the class comment). */
    private void consider(Member member, int attempt) {
        if (refused.contains(member.address())) {
            return;
        }
        Optional<Announcement> parsed;
        try {
            parsed = announcement(member.getRoles());
        } catch (IllegalArgumentException e) {
            LOG.warn("member {} has a {}: its frames will be dropped", member.address(), e.getMessage());
            return;
        }
        if (parsed.isEmpty()) {
            return;
        }
        Announcement a = parsed.get();
        Set<String> roles = member.getRoles();
        String fingerprint = "";
        if (tls != null) {
            Optional<X509Certificate> cert = certificateOf(member.address());
            if (cert.isEmpty()) {
                awaitCertificate(member.address(), attempt);
                return;
            }
            String why = lie(member.address(), a, cert.get());
            if (why != null) {
                refused.add(member.address());
                NodeGuardian.refuse(context.getSystem(), member.address(), why,
                        "its endpoint and key are not admitted to this node's data plane");
                return;
            }
            roles = ClusterCertificates.grantedRoles(cert.get());
            fingerprint = MemberSignatures.fingerprint(cert.get());
        }
        if (plane.auth() == null) {
            return;
        }
        if (a.key().equals("-")) {
            LOG.error("member {} runs with tributary.data-plane.authenticate = off and this node with on: its frames"
                    + " are dropped; set the same value on every node", member.address());
            return;
        }
        Address prior = owners.putIfAbsent(a.endpoint(), member.address());
        if (prior != null && !prior.equals(member.address())) {
            String priorCertificate = ownerCertificates.get(a.endpoint());
            if (tls != null && priorCertificate != null && !priorCertificate.equals(fingerprint)) {
                refused.add(member.address());
                NodeGuardian.refuse(context.getSystem(), member.address(), "member " + member.address()
                        + " announces data-plane endpoint " + a.endpoint() + ", which member " + prior
                        + " of another certificate announced first and still holds",
                        "its endpoint and key are not admitted to this node's data plane");
                return;
            }
            LOG.error("member {} announces data-plane endpoint {}, which member {} announced first and still"
                    + " holds: its announcement is ignored and its frames are dropped (it is taken once {} is gone;"
                    + " give each node its own tributary.data-plane.port)", member.address(), a.endpoint(), prior, prior);
            return;
        }
        try {
            plane.peerJoined(a.endpoint(), a.key(), roles);
            ownerCertificates.put(a.endpoint(), fingerprint);
        } catch (IllegalArgumentException e) {
            owners.remove(a.endpoint(), member.address());
            LOG.error("member {}: {}; its frames will be dropped", member.address(), e.getMessage());
        }
    }

    /** The id a member signs control messages under: its cluster host:port. */
    static String signerId(Address member) {
        return member.getHost().orElse("") + ":" + member.getPort().orElse(-1);
    }

    /**
     * The verified control-message signer at cluster address {@code id} ({@code host:port}), for
     * {@link ControlSignatures}: a current member whose announcement its certificate's key signed, with
     * the roles that certificate grants. Null while this node cannot vouch for it (not a member yet, or
     * its certificate not yet seen: then it is dialled); called on Pekko's remoting threads.
     */
    static ControlSignatures.Signer signer(ActorSystem<?> system, TlsMaterial.Node tls, String id) {
        Cluster cluster = Cluster.get(system);
        for (Member m : cluster.state().getMembers()) {
            if (m.status() == MemberStatus.removed() || !signerId(m.address()).equals(id)) {
                continue;
            }
            Optional<Announcement> a;
            try {
                a = announcement(m.getRoles());
            } catch (IllegalArgumentException e) {
                return null; // logged when it joined
            }
            if (a.isEmpty() || a.get().controlKey() == null) {
                return null;
            }
            Optional<X509Certificate> cert = m.address().equals(cluster.selfMember().address())
                    ? Optional.of(tls.certificate())
                    : PeerCertificates.get(system).of(m.address().getHost().orElse(""), m.address().getPort().orElse(-1));
            if (cert.isEmpty()) {
                NodeGuardian.dial(system, m.address());
                return null;
            }
            if (lie(m.address(), a.get(), cert.get()) != null) {
                return null; // downed by the data-plane peers of every node
            }
            byte[] key;
            try {
                key = Base64.getUrlDecoder().decode(a.get().controlKey());
                return new ControlSignatures.Signer(id, key, ClusterCertificates.grantedRoles(cert.get()),
                        a.get().endpoint());
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return null;
    }

    /** Why {@code a} cannot be {@code member}'s word under {@code cert}, or null when it is. */
    private static String lie(Address member, Announcement a, X509Certificate cert) {
        String host = member.getHost().orElse("");
        String subject = ClusterCertificates.subjectName(cert);
        if (a.signature() == null) {
            return "member " + member + " (" + subject + ") announces data-plane endpoint " + a.endpoint()
                    + " unsigned in a cluster that runs mutual TLS";
        }
        if (!MemberSignatures.verify(cert.getPublicKey(), a.signature(), MemberSignatures.DATA_PLANE_LABEL, host,
                a.endpoint(), a.key(), a.controlKey())) {
            return "member " + member + " announces data-plane endpoint " + a.endpoint() + " and key " + a.key()
                    + " with a signature its certificate " + subject + " did not make (signed by another key,"
                    + " or altered)";
        }
        int colon = a.endpoint().lastIndexOf(':');
        if (colon < 0 || !a.endpoint().substring(0, colon).equals(host)) {
            return "member " + member + " (" + subject + ") announces data-plane endpoint " + a.endpoint()
                    + ", which is not on its own host " + host;
        }
        return null;
    }

    /** This node's own certificate for itself; the one {@code member}'s address presented otherwise. */
    private Optional<X509Certificate> certificateOf(Address member) {
        if (member.equals(Cluster.get(context.getSystem()).selfMember().address())) {
            return Optional.of(tls.certificate());
        }
        return PeerCertificates.get(context.getSystem()).of(member.getHost().orElse(""), member.getPort().orElse(-1));
    }

    private void awaitCertificate(Address member, int attempt) {
        if (waiting.containsKey(member)) {
            return; // a retry is scheduled already
        }
        if (attempt > CERTIFICATE_ATTEMPTS) {
            LOG.error("member {} is not admitted to this node's data plane: it did not show this node its TLS"
                    + " certificate within {} s of dialling it (the node guardian downs it)", member,
                    CERTIFICATE_RETRY.multipliedBy(CERTIFICATE_ATTEMPTS).toSeconds());
            return;
        }
        if (attempt == 1) {
            LOG.info("member {} waits for the data plane until this node has seen its TLS certificate: dialling it",
                    member);
        }
        NodeGuardian.dial(context.getSystem(), member);
        waiting.put(member, attempt + 1);
        context.scheduleOnce(CERTIFICATE_RETRY, context.getSelf(), new Retry(member, attempt + 1));
    }

    private void removed(Member member) {
        ControlSignatures.get(Adapter.toClassic(context.getSystem())).forget(signerId(member.address()));
        waiting.remove(member.address());
        refused.remove(member.address());
        Optional<Announcement> a;
        try {
            a = announcement(member.getRoles());
        } catch (IllegalArgumentException e) {
            return; // it was never admitted (logged when it joined)
        }
        if (a.isEmpty()) {
            return;
        }
        String endpoint = a.get().endpoint();
        // only the member that owns an endpoint takes its key away when it goes: another that claimed the
        // same endpoint (a liar, or a restart racing its own removal) must not delete the owner's key
        if (owners.remove(endpoint, member.address())) {
            ownerCertificates.remove(endpoint);
            plane.peerLeft(endpoint);
            adoptWaitingClaim(member.address(), endpoint);
        }
    }

    /** {@code endpoint}'s owner is gone: a member still in the cluster that announced it too now takes it. */
    private void adoptWaitingClaim(Address gone, String endpoint) {
        List<Member> members = new java.util.ArrayList<>();
        Cluster.get(context.getSystem()).state().getMembers().forEach(members::add);
        for (Member m : members) {
            Optional<Announcement> a;
            try {
                a = announcement(m.getRoles());
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (a.isPresent() && a.get().endpoint().equals(endpoint) && !m.address().equals(gone)
                    && m.status() != MemberStatus.removed()) {
                consider(m, 1);
                return;
            }
        }
    }
}
