package io.tributary.node;

import io.tributary.coordinator.MemberIdentities;
import io.tributary.protocol.CoordinatorProtocol.RegisterTrainer;
import io.tributary.protocol.RegistrationSigner;
import io.tributary.tls.ClusterCertificates;
import io.tributary.tls.MemberSignatures;
import io.tributary.tls.PeerCertificates;
import io.tributary.tls.TlsMaterial;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Who a trainer's registration speaks for, as the coordinator's node sees the cluster. A
 * registration is admitted only when (a) its trainer actor lives on the node it names, (b) that node
 * is a member with the trainer role, (c) it registers the data-plane endpoint that member announced,
 * and, with mutual TLS on, (d) its signature ({@link #signer}) verifies against the certificate the
 * node's address presented to this node, whose roles are the ones (b) checks; the trainer is then
 * that certificate (the SHA-256 of its DER), wherever it registers from. With TLS off the node is
 * taken at its word for (b) and the trainer keyed on its address: unauthenticated.
 */
final class TrainerIdentities implements MemberIdentities {

    private final ActorSystem<?> system;
    private final long runId;
    private final TlsMaterial.Node tls;

    /** @param tls this node's TLS material; empty with TLS off */
    TrainerIdentities(ActorSystem<?> system, long runId, Optional<TlsMaterial.Node> tls) {
        this.system = system;
        this.runId = runId;
        this.tls = tls.orElse(null);
    }

    /** What signs this node's own registrations: its TLS key, or nothing with TLS off. */
    static RegistrationSigner signer(Optional<TlsMaterial.Node> tls) {
        return tls.<RegistrationSigner>map(t -> fields -> MemberSignatures.sign(t.key(), MemberSignatures.REGISTRATION_LABEL,
                fields)).orElse(RegistrationSigner.NONE);
    }

    @Override
    public Verdict vet(RegisterTrainer r) {
        Address node;
        try {
            node = AddressFromURIString.parse(r.nodeId());
        } catch (RuntimeException e) {
            return new Refused("its node id '" + r.nodeId() + "' is not a cluster address (" + e.getMessage() + ")", false);
        }
        Address self = Cluster.get(system).selfMember().address();
        Address actorNode = r.trainer().path().address().hasGlobalScope() ? r.trainer().path().address() : self;
        if (!actorNode.equals(node)) {
            return new Refused("it names node " + node + " but its trainer actor lives on " + actorNode
                    + ": a node registers only its own trainer", false);
        }
        Member member = memberAt(node);
        if (member == null) {
            return new Pending("node " + node + " is not a member of the cluster as this coordinator sees it (yet)");
        }
        Set<String> roles = member.getRoles();
        String identity = r.nodeId();
        String name = r.nodeId();
        boolean authentic = false;
        if (tls != null) {
            Optional<X509Certificate> cert = node.equals(self) ? Optional.of(tls.certificate())
                    : PeerCertificates.get(system).of(node.getHost().orElse(""), node.getPort().orElse(-1));
            if (cert.isEmpty()) {
                NodeGuardian.dial(system, node);
                return new Pending("this coordinator has not seen the TLS certificate of " + node + " yet: dialling it");
            }
            String subject = ClusterCertificates.subjectName(cert.get());
            if (!MemberSignatures.verify(cert.get().getPublicKey(), r.signature(), MemberSignatures.REGISTRATION_LABEL,
                    r.signedFields(runId))) {
                return new Refused("its signature does not verify against the certificate " + subject + " that "
                        + node + " presented: the registration is not that node's word (forged, or of another run"
                        + " than " + runId + ")", false);
            }
            roles = ClusterCertificates.grantedRoles(cert.get());
            identity = MemberSignatures.fingerprint(cert.get());
            name = subject + " (certificate sha256 " + identity.substring(0, 16) + "...)";
            authentic = true;
        }
        if (!roles.contains("trainer")) {
            return new Refused("node " + node + (tls != null ? "'s certificate grants" : " claims") + " roles "
                    + new java.util.TreeSet<>(roles).stream().filter(ClusterCertificates.KNOWN_ROLES::contains).toList()
                    + ", not trainer", authentic);
        }
        Optional<DataPlanePeers.Announcement> announced;
        try {
            announced = DataPlanePeers.announcement(member.getRoles());
        } catch (IllegalArgumentException e) {
            return new Refused("node " + node + " has a " + e.getMessage(), authentic);
        }
        if (announced.isEmpty() || !announced.get().endpoint().equals(r.dataEndpoint())) {
            return new Refused("it registers data-plane endpoint " + r.dataEndpoint() + " but node " + node
                    + " announced " + announced.map(DataPlanePeers.Announcement::endpoint).orElse("none"), authentic);
        }
        return new Admitted(identity, name);
    }

    @Override
    public String unvouched(io.tributary.protocol.CoordinatorProtocol.MemberOffence o) {
        Address reporter;
        try {
            reporter = AddressFromURIString.parse(o.reporter());
        } catch (RuntimeException e) {
            return "its reporter '" + o.reporter() + "' is not a cluster address";
        }
        Address self = Cluster.get(system).selfMember().address();
        Member member = memberAt(reporter);
        if (member == null && !reporter.equals(self)) {
            return "its reporter " + reporter + " is not a member";
        }
        Set<String> roles = member == null ? Set.of() : member.getRoles();
        if (tls != null) {
            Optional<X509Certificate> cert = reporter.equals(self) ? Optional.of(tls.certificate())
                    : PeerCertificates.get(system).of(reporter.getHost().orElse(""), reporter.getPort().orElse(-1));
            if (cert.isEmpty()) {
                NodeGuardian.dial(system, reporter);
                return "this coordinator has not seen the TLS certificate of its reporter " + reporter;
            }
            if (!MemberSignatures.verify(cert.get().getPublicKey(), o.signature(), MemberSignatures.OFFENCE_LABEL,
                    o.signedFields(runId))) {
                return "its signature does not verify against the certificate "
                        + ClusterCertificates.subjectName(cert.get()) + " that " + reporter + " presented: it is not"
                        + " that member's word";
            }
            roles = ClusterCertificates.grantedRoles(cert.get());
        }
        if (!roles.contains("ps") && !roles.contains("coordinator")) {
            return "its reporter " + reporter + (tls != null ? "'s certificate grants" : " claims") + " neither ps nor"
                    + " coordinator: only those quarantine on a report (a trainer's report downs, nothing more)";
        }
        return null;
    }

    private Member memberAt(Address node) {
        for (Member m : Cluster.get(system).state().getMembers()) {
            if (m.address().equals(node)) {
                MemberStatus s = m.status();
                boolean in = s.equals(MemberStatus.up()) || s.equals(MemberStatus.weaklyUp()) || s.equals(MemberStatus.joining());
                return in ? m : null;
            }
        }
        return null;
    }
}
