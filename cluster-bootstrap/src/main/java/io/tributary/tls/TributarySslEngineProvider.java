package io.tributary.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509TrustManager;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.remote.artery.tcp.SSLEngineProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * Artery's {@code tls-tcp} engines for a Tributary node (configured as
 * {@code pekko.remote.artery.ssl.ssl-engine-provider}): TLS 1.3 only, mutual authentication
 * required, the node's certificate from {@code tributary.tls.dir}, and only certificates signed by
 * that folder's cluster CA trusted. Host names are not checked (volunteers' addresses are not known
 * when their certificates are signed); what a peer may do is bound to its certificate by the roles
 * it carries, which the node guardian checks against the roles a member claims. Every refused peer
 * certificate is logged with its subject and the reason, on the side that refused it.
 */
public final class TributarySslEngineProvider implements SSLEngineProvider {

    private static final Logger LOG = LoggerFactory.getLogger(TributarySslEngineProvider.class);
    private static final String[] PROTOCOLS = {"TLSv1.3"};

    private final javax.net.ssl.SSLContext context;
    private final PeerCertificates peers;

    public TributarySslEngineProvider(ActorSystem system) {
        Path dir = TlsSettings.from(system.settings().config()).dir();
        TlsMaterial.Node node;
        try {
            // the node checked its own certificate's dates when it started; the peers check them again
            node = TlsMaterial.loadNode(dir, false);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the TLS files in " + dir + ": " + e.getMessage(), e);
        }
        RevocationList revoked;
        try {
            revoked = RevocationList.load(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + dir.resolve(RevocationList.FILE) + ": " + e.getMessage(), e);
        }
        this.context = TlsMaterial.context(node, new LoggingTrust(TlsMaterial.trustOnly(node.ca()), revoked));
        this.peers = PeerCertificates.get(system);
        peers.revocations(revoked);
    }

    @Override
    public SSLEngine createServerSSLEngine(String hostname, int port) {
        SSLEngine e = context.createSSLEngine();
        e.setUseClientMode(false);
        e.setNeedClientAuth(true);
        e.setEnabledProtocols(PROTOCOLS);
        return e;
    }

    @Override
    public SSLEngine createClientSSLEngine(String hostname, int port) {
        SSLEngine e = context.createSSLEngine(hostname, port);
        e.setUseClientMode(true);
        e.setEnabledProtocols(PROTOCOLS);
        return e;
    }

    /** Artery calls this on the side that dialled (the client engine's session): the peer is the address it dialled. */
    @Override
    public Option<Throwable> verifyClientSession(String hostname, SSLSession session) {
        try {
            if (session.getPeerCertificates()[0] instanceof X509Certificate cert) {
                peers.record(session.getPeerHost(), session.getPeerPort(), cert);
                LOG.info("TLS: connected to {}:{} ({}), which presented {}", session.getPeerHost(), session.getPeerPort(),
                        hostname, ClusterCertificates.subjectName(cert));
            }
            return Option.empty();
        } catch (SSLPeerUnverifiedException e) {
            return Option.apply(e);
        }
    }

    /** Artery calls this on the accepting side: the peer's port is an ephemeral one, so nothing is recorded. */
    @Override
    public Option<Throwable> verifyServerSession(String hostname, SSLSession session) {
        return Option.empty();
    }

    /** Refuses revoked certificates on top of {@code delegate}'s checks; logs why a peer's chain was refused. */
    static final class LoggingTrust implements X509TrustManager {
        private final X509TrustManager delegate;
        private final RevocationList revoked;

        LoggingTrust(X509TrustManager delegate, RevocationList revoked) {
            this.delegate = delegate;
            this.revoked = revoked;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, () -> {
                delegate.checkClientTrusted(chain, authType);
                notRevoked(chain);
            }, "an inbound");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, () -> {
                delegate.checkServerTrusted(chain, authType);
                notRevoked(chain);
            }, "an outbound");
        }

        private void notRevoked(X509Certificate[] chain) throws CertificateException {
            java.util.Optional<String> line = revoked.reason(chain[0]);
            if (line.isPresent()) {
                throw new CertificateException("the cluster's operator revoked it (" + revoked.file() + ": " + line.get()
                        + ")");
            }
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }

        private interface Check {
            void run() throws CertificateException;
        }

        static void check(X509Certificate[] chain, Check check, String direction) throws CertificateException {
            try {
                check.run();
            } catch (CertificateException e) {
                String who = chain == null || chain.length == 0 ? "(no certificate)"
                        : ClusterCertificates.subjectName(chain[0]) + " issued by "
                        + chain[0].getIssuerX500Principal().getName() + ", valid " + chain[0].getNotBefore().toInstant()
                        + " .. " + chain[0].getNotAfter().toInstant()
                        + (chain[0].getNotAfter().before(new java.util.Date()) ? " (EXPIRED)" : "");
                LOG.warn("TLS: refused the certificate of {} connection's peer: {}: {}; it cannot join this cluster"
                        + " (it needs a current certificate signed by this cluster's CA)", direction, who, rootMessage(e));
                throw e;
            }
        }

        private static String rootMessage(Throwable e) {
            Throwable t = e;
            while (t.getCause() != null && t.getCause() != t) {
                t = t.getCause();
            }
            return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return "TributarySslEngineProvider" + Arrays.toString(PROTOCOLS);
    }
}
