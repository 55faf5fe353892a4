package io.tributary.tls;

import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * The certificate each peer presented, by the peer's canonical {@code host:port}: recorded when this
 * node opens a TLS connection to that address (Artery connects outbound to every member it talks
 * to, and the client side knows which address it dialled). One per actor system.
 */
public final class PeerCertificates implements Extension {

    private static final Id ID = new Id();

    private final Map<String, X509Certificate> byAddress = new ConcurrentHashMap<>();
    private volatile RevocationList revocations;

    /** The instance of {@code system}. */
    public static PeerCertificates get(ActorSystem<?> system) {
        return ID.get(Adapter.toClassic(system));
    }

    static PeerCertificates get(org.apache.pekko.actor.ActorSystem system) {
        return ID.get(system);
    }

    void record(String host, int port, X509Certificate certificate) {
        byAddress.put(key(host, port), certificate);
    }

    /** The certificate the node at {@code host:port} presented, if this node has connected to it. */
    public Optional<X509Certificate> of(String host, int port) {
        return Optional.ofNullable(byAddress.get(key(host, port)));
    }

    void revocations(RevocationList list) {
        this.revocations = list;
    }

    /** The revocation list this node's TLS engines check, if TLS is on. */
    public Optional<RevocationList> revocations() {
        return Optional.ofNullable(revocations);
    }

    private static String key(String host, int port) {
        return host + ":" + port;
    }

    private static final class Id extends AbstractExtensionId<PeerCertificates> {
        @Override
        public PeerCertificates createExtension(ExtendedActorSystem system) {
            return new PeerCertificates();
        }
    }
}
