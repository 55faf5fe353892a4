package io.tributary.node;

import io.tributary.protocol.NodeProtocol.RevocationUpdate;
import io.tributary.tls.SignedRevocations;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Carries the CA-signed revocation list through the cluster ({@code /system/}{@value #NAME}), so that an
 * operator revokes a certificate with one command ({@code tributary certs publish}) rather than by
 * copying a file to every node. A list published at one node (its metrics endpoint's
 * {@code POST /revocations}) is checked ({@link SignedRevocations#install}: the CA's signature, and
 * only ever a longer list), written into this node's TLS folder, where the revocation check reads it
 * within 2 s, and sent to every other member, which checks and installs it the same way; a member that
 * joins later is sent the list by every member that holds one. A list that fails its check is logged and
 * dropped: a member cannot make another take a forged or an older list.
 */
final class RevocationSpreader {

    static final String NAME = "revocations";

    /** A list the operator published at this node; {@code answer} gets what became of it. */
    record Published(SignedRevocations.Update update, CompletableFuture<String> answer) {
    }

    private record MemberChanged(ClusterEvent.MemberEvent event) {
    }

    private final ActorContext<Object> ctx;
    private final Path tlsDir;
    private final X509Certificate ca;

    private RevocationSpreader(ActorContext<Object> ctx, Path tlsDir, X509Certificate ca) {
        this.ctx = ctx;
        this.tlsDir = tlsDir;
        this.ca = ca;
    }

    static Behavior<Object> create(Path tlsDir, X509Certificate ca) {
        return Behaviors.setup(ctx -> {
            Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
                    ctx.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new), ClusterEvent.MemberEvent.class));
            RevocationSpreader s = new RevocationSpreader(ctx, tlsDir, ca);
            return Behaviors.receive(Object.class)
                    .onMessage(Published.class, s::published)
                    .onMessage(RevocationUpdate.class, s::fromMember)
                    .onMessage(MemberChanged.class, s::memberChanged)
                    .build();
        });
    }

    private Behavior<Object> published(Published p) {
        try {
            boolean taken = SignedRevocations.install(tlsDir, p.update(), ca);
            int sent = sendToOthers(new RevocationUpdate(p.update().list(), p.update().signature()));
            String what = (taken ? "installed" : "already installed") + " on " + self() + "; sent to " + sent
                    + " other member(s), each of which checks the CA's signature before taking it";
            ctx.getLog().warn("revocation list published by the operator: {}", what);
            p.answer().complete(what);
        } catch (IOException | RuntimeException e) {
            ctx.getLog().error("revocation list published at this node refused: {}", e.getMessage());
            p.answer().completeExceptionally(e);
        }
        return Behaviors.same();
    }

    private Behavior<Object> fromMember(RevocationUpdate u) {
        try {
            if (SignedRevocations.install(tlsDir, new SignedRevocations.Update(u.list(), u.signature()), ca)) {
                ctx.getLog().warn("took a newer CA-signed revocation list from the cluster into {}", tlsDir);
            }
        } catch (IOException | RuntimeException e) {
            ctx.getLog().error("a revocation list from the cluster was refused: {}", e.getMessage());
        }
        return Behaviors.same();
    }

    private Behavior<Object> memberChanged(MemberChanged m) {
        if (m.event() instanceof ClusterEvent.MemberUp up && !up.member().address().equals(self())) {
            try {
                Optional<SignedRevocations.Update> mine = SignedRevocations.installed(tlsDir);
                mine.ifPresent(u -> send(up.member().address(), new RevocationUpdate(u.list(), u.signature())));
            } catch (IOException e) {
                ctx.getLog().error("cannot read this node's revocation list in {}: {}", tlsDir, e.getMessage());
            }
        }
        return Behaviors.same();
    }

    private int sendToOthers(RevocationUpdate u) {
        int n = 0;
        for (Member m : Cluster.get(ctx.getSystem()).state().getMembers()) {
            if (!m.address().equals(self()) && (m.status().equals(MemberStatus.up())
                    || m.status().equals(MemberStatus.weaklyUp()) || m.status().equals(MemberStatus.joining()))) {
                send(m.address(), u);
                n++;
            }
        }
        return n;
    }

    private void send(Address to, RevocationUpdate u) {
        ctx.getSystem().classicSystem().actorSelection(to + "/system/" + NAME)
                .tell(u, org.apache.pekko.actor.ActorRef.noSender());
    }

    private Address self() {
        return Cluster.get(ctx.getSystem()).selfMember().address();
    }
}
