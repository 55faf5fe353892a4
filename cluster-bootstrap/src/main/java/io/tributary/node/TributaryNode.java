package io.tributary.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tributary.protocol.PekkoDefaults;
import io.tributary.tls.ClusterCertificates;
import io.tributary.tls.TlsMaterial;
import io.tributary.tls.TlsSettings;
import io.tributary.tls.TributarySslEngineProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import io.tributary.protocol.ProtocolRegistry;
import java.net.BindException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Tributary node: a typed actor system named {@value #SYSTEM_NAME} that is a member of
 * the Pekko cluster with the node's roles (plus a {@code proto-N} role carrying its protocol
 * version), and a Prometheus {@code /metrics} endpoint stopped by CoordinatedShutdown, which also
 * runs on SIGTERM.
 */
public final class TributaryNode implements AutoCloseable {

    /** The actor system's name; every node of a cluster must use the same one. */
    public static final String SYSTEM_NAME = "tributary";

    private static final Logger LOG = LoggerFactory.getLogger(TributaryNode.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final ActorSystem<NodeGuardian.Command> system;
    private final NodeMetrics metrics;

    private final AtomicReference<String> refusal;
    private final TlsMaterial.Node tls;
    private final NodeSettings settings;

    private TributaryNode(ActorSystem<NodeGuardian.Command> system, NodeMetrics metrics, AtomicReference<String> refusal,
                          TlsMaterial.Node tls, NodeSettings settings) {
        this.settings = settings;
        this.system = system;
        this.metrics = metrics;
        this.refusal = refusal;
        this.tls = tls;
    }

    /**
     * Starts a node and asks it to join its seed nodes (or itself, when it has none).
     *
     * @param config the loaded configuration ({@code io.tributary.config.ConfigLoader}); the node's
     *               own settings are laid over it
     * @throws NodeStartException when a port is taken or the system cannot start
     */
    public static TributaryNode start(NodeSettings settings, Config config) {
        return start(settings, config, ProtocolRegistry.PROTOCOL_VERSION, tls -> List.of());
    }

    /** As {@link #start(NodeSettings, Config)}, with roles the node publishes besides its configured ones. */
    public static TributaryNode start(NodeSettings settings, Config config, List<String> extraRoles) {
        return start(settings, config, ProtocolRegistry.PROTOCOL_VERSION, tls -> extraRoles);
    }

    /**
     * As {@link #start(NodeSettings, Config)}, with roles the node publishes besides its configured ones,
     * made from its TLS material (empty when TLS is off): a role may carry a statement signed with the node's key.
     */
    public static TributaryNode start(NodeSettings settings, Config config,
                                      Function<Optional<TlsMaterial.Node>, List<String>> extraRoles) {
        return start(settings, config, ProtocolRegistry.PROTOCOL_VERSION, extraRoles);
    }

    /** As {@link #start(NodeSettings, Config)}, claiming {@code protocolVersion}: tests start mismatched nodes. */
    static TributaryNode start(NodeSettings settings, Config config, int protocolVersion) {
        return start(settings, config, protocolVersion, tls -> List.of());
    }

    private static TributaryNode start(NodeSettings settings, Config config, int protocolVersion,
                                       Function<Optional<TlsMaterial.Node>, List<String>> extraRolesFor) {
        requireJdkInternalMiscExport();
        TlsMaterial.Node tls = loadTls(settings, config);
        List<String> extraRoles = extraRolesFor.apply(Optional.ofNullable(tls));
        settings.loopbackWarning().ifPresent(w -> LOG.warn("{}", w));
        NodeMetrics metrics = NodeMetrics.start(settings.listenHost(), settings.resolvedMetricsPort());
        AtomicReference<String> refusal = new AtomicReference<>();
        ActorSystem<NodeGuardian.Command> system;
        try {
            system = ActorSystem.create(NodeGuardian.create(metrics, protocolVersion, tls != null, refusal), SYSTEM_NAME,
                    pekkoConfig(settings, protocolVersion, extraRoles, tls != null,
                            RunSettings.from(config).chaosControl() != null)
                            .withFallback(PekkoDefaults.over(config)));
        } catch (RuntimeException e) {
            metrics.close();
            throw startFailure(settings, e);
        }
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
                "stop-metrics-endpoint", () -> {
                    metrics.close();
                    return CompletableFuture.completedFuture(Done.getInstance());
                });
        if (tls != null) {
            // the CA-signed revocation list travels through the cluster (tributary certs publish)
            org.apache.pekko.actor.typed.ActorRef<Object> spreader = system.systemActorOf(
                    RevocationSpreader.create(TlsSettings.from(config).dir(), tls.ca()), RevocationSpreader.NAME,
                    org.apache.pekko.actor.typed.Props.empty());
            metrics.onRevocations(update -> {
                CompletableFuture<String> answer = new CompletableFuture<>();
                spreader.tell(new RevocationSpreader.Published(update, answer));
                return answer;
            });
        }
        Cluster cluster = Cluster.get(system);
        if (settings.seedNodes().isEmpty()) {
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
        } else {
            List<Address> seeds = new ArrayList<>();
            for (NodeSettings.HostPort seed : settings.seedNodes()) {
                seeds.add(new Address("pekko", SYSTEM_NAME, seed.host(), seed.port()));
            }
            cluster.manager().tell(new JoinSeedNodes(seeds));
            // A node no seed admits within the join time-out stops and says why (failure()): a seed answers over a
            // connection back to this node's advertised address, so a node nobody can reach is never admitted
            org.apache.pekko.actor.Cancellable watchdog = system.scheduler().scheduleOnce(settings.joinTimeout(), () -> {
                Address self = cluster.selfMember().address();
                boolean admitted = false;
                for (org.apache.pekko.cluster.Member m : cluster.state().getMembers()) {
                    admitted |= m.address().equals(self);
                }
                if (!admitted && CoordinatedShutdown.get(system).getShutdownReason().isEmpty()) {
                    String line = joinFailure(settings);
                    LOG.error("{}", line);
                    CoordinatedShutdown.get(system).runAll(new NotAdmitted(line));
                }
            }, system.executionContext());
            // stopping for any reason: the watchdog has nothing left to watch (and a scheduler that closes runs
            // what is still pending, in the middle of the actor system's termination)
            CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "join-watchdog",
                    () -> {
                        watchdog.cancel();
                        return CompletableFuture.completedFuture(Done.getInstance());
                    });
        }
        LOG.info("node {} started with roles {}{}, joining {}; metrics at http://{}:{}/metrics",
                cluster.selfMember().address(), settings.roles(), tls == null ? ", TLS OFF (plain TCP)"
                        : ", mutual TLS as " + ClusterCertificates.subjectName(tls.certificate()),
                settings.seedNodes().isEmpty() ? "itself" : settings.seedNodes(), settings.host(), metrics.port());
        return new TributaryNode(system, metrics, refusal, tls, settings);
    }

    /** The JVM option Artery needs: its buffer pools are Agrona queues, and Agrona 2.x uses jdk.internal.misc.Unsafe. */
    public static final String REQUIRED_JVM_OPTION = "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED";

    private static void requireJdkInternalMiscExport() {
        if (!Object.class.getModule().isExported("jdk.internal.misc", TributaryNode.class.getModule())) {
            throw new NodeStartException("the JVM lacks the option '" + REQUIRED_JVM_OPTION + "' that Pekko's"
                    + " transport needs (Agrona 2.x uses jdk.internal.misc.Unsafe): add it to the java command"
                    + " line or to JDK_JAVA_OPTIONS");
        }
    }

    /**
     * When set, nodes skip the checks of their own certificate's dates and roles, as a modified
     * node would: tests of the checks the other members make.
     */
    static volatile boolean skipOwnChecks;

    /**
     * With {@code tributary.tls.enabled}: reads and checks this node's certificate, and refuses to
     * start when it does not grant every role the node is configured with. Null when TLS is off.
     */
    private static TlsMaterial.Node loadTls(NodeSettings settings, Config config) {
        TlsSettings tlsSettings = TlsSettings.from(config);
        if (!tlsSettings.enabled()) {
            return null;
        }
        Path dir = tlsSettings.dir();
        if (dir == null) {
            throw new NodeStartException("tributary.tls.enabled = on, but no certificate folder is set: pass --tls-dir DIR"
                    + " (a folder made by 'tributary certs sign'), or set tributary.tls.enabled = off on a network you control");
        }
        TlsMaterial.Node node;
        try {
            node = TlsMaterial.loadNode(dir, !skipOwnChecks);
        } catch (IOException | IllegalArgumentException e) {
            throw new NodeStartException("TLS: " + e.getMessage(), e);
        }
        try {
            java.util.Optional<String> revoked = io.tributary.tls.RevocationList.load(dir).reason(node.certificate());
            if (revoked.isPresent() && !skipOwnChecks) {
                throw new NodeStartException("TLS: this node's certificate " + ClusterCertificates.subjectName(node.certificate())
                        + " is revoked by the cluster's operator (" + dir.resolve(io.tributary.tls.RevocationList.FILE)
                        + ": " + revoked.get() + "): the cluster would refuse it; ask the operator for a new certificate");
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new NodeStartException("TLS: " + e.getMessage(), e);
        }
        Set<String> missing = new TreeSet<>(settings.roles());
        missing.removeAll(node.roles());
        if (!missing.isEmpty() && !skipOwnChecks) {
            throw new NodeStartException("TLS: this node is configured with roles " + new TreeSet<>(settings.roles())
                    + " but its certificate " + ClusterCertificates.subjectName(node.certificate()) + " grants only "
                    + node.roles() + ": the cluster would refuse it; drop " + missing
                    + " from --roles or ask the operator for a certificate with them (tributary certs sign --roles ...)");
        }
        return node;
    }

    /** The settings laid over the loaded configuration: they come from NodeSettings, so they win. */
    static Config pekkoConfig(NodeSettings settings, int protocolVersion, List<String> extraRoles, boolean tls,
                              boolean chaosControl) {
        List<String> roles = new ArrayList<>(settings.roles());
        roles.add(NodeGuardian.PROTOCOL_ROLE_PREFIX + protocolVersion);
        roles.addAll(extraRoles);
        Map<String, Object> m = new HashMap<>();
        m.put("pekko.actor.provider", "cluster");
        m.put("pekko.remote.artery.canonical.hostname", settings.host());
        m.put("pekko.remote.artery.canonical.port", settings.port());
        if (!settings.bindHost().isEmpty()) {
            m.put("pekko.remote.artery.bind.hostname", settings.bindHost());
        }
        if (settings.bindPort() != NodeSettings.AUTO) {
            m.put("pekko.remote.artery.bind.port", Integer.toString(settings.bindPort()));
        }
        if (chaosControl) {
            // the chaos tool's partitions drop messages in Artery's test stages
            m.put("pekko.remote.artery.advanced.test-mode", "on");
        }
        if (tls) {
            m.put("pekko.remote.artery.transport", "tls-tcp");
            m.put("pekko.remote.artery.ssl.ssl-engine-provider", TributarySslEngineProvider.class.getName());
        }
        m.put("pekko.cluster.roles", roles);
        // Joining is explicit (start() above), never from pekko.cluster.seed-nodes.
        m.put("pekko.cluster.seed-nodes", List.of());
        // SIGTERM runs CoordinatedShutdown: leave the cluster, stop the metrics endpoint, terminate.
        m.put("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook", "on");
        m.put("pekko.coordinated-shutdown.exit-jvm", "off");
        m.put("pekko.loggers", List.of("org.apache.pekko.event.slf4j.Slf4jLogger"));
        m.put("pekko.logging-filter", "org.apache.pekko.event.slf4j.Slf4jLoggingFilter");
        m.put("pekko.loglevel", "DEBUG");
        m.put("pekko.stdout-loglevel", "OFF");
        return ConfigFactory.parseMap(m, "tributary.node settings");
    }

    private static NodeStartException startFailure(NodeSettings settings, RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException || String.valueOf(t.getMessage()).contains("Failed to bind")) {
                return new NodeStartException("port " + settings.port() + " on " + settings.host()
                        + " is already in use: pick another with --port, or 0 for a free one", e);
            }
        }
        return new NodeStartException("the node could not start: " + oneLine(e), e);
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.replaceAll("\\s*\\n\\s*", " ");
    }

    /** This node's certificate, key and CA when mutual TLS is on; empty when it is off. */
    public Optional<TlsMaterial.Node> tls() {
        return Optional.ofNullable(tls);
    }

    /** The typed actor system; other modules spawn their actors in it. */
    public ActorSystem<?> system() {
        return system;
    }

    /** This node's cluster address, e.g. {@code pekko://tributary@127.0.0.1:25520}. */
    public Address address() {
        return Cluster.get(system).selfMember().address();
    }

    /** The port the Pekko transport listens on (the chosen one when configured as 0). */
    public int port() {
        return address().getPort().orElseThrow();
    }

    /** The registry behind {@code /metrics}; training metrics are added to it. */
    public io.prometheus.metrics.model.registry.PrometheusRegistry metricsRegistry() {
        return metrics.registry();
    }

    /** The port the {@code /metrics} endpoint listens on. */
    public int metricsPort() {
        return metrics.port();
    }

    /** Completes when the actor system has terminated (SIGTERM, {@link #close()}, downing, a version mismatch). */
    public CompletionStage<Done> whenTerminated() {
        return system.getWhenTerminated();
    }

    /**
     * Why the node stopped when it stopped on its own account; empty while running, or after an
     * ordinary shutdown (SIGTERM, {@link #close()}).
     */
    public Optional<String> failure() {
        Optional<CoordinatedShutdown.Reason> reason = CoordinatedShutdown.get(system).getShutdownReason();
        if (reason.isEmpty()) {
            return Optional.empty();
        }
        CoordinatedShutdown.Reason r = reason.get();
        if (r instanceof NodeGuardian.ProtocolMismatch mismatch) {
            return Optional.of(mismatch.message());
        }
        if (r instanceof NodeGuardian.Refused refused) {
            return Optional.of("this node was refused by the cluster: " + refused.message());
        }
        if (r == CoordinatedShutdown.clusterDowningReason() && refusal.get() != null) {
            return Optional.of("this node was refused by the cluster: " + refusal.get());
        }
        if (r == CoordinatedShutdown.clusterDowningReason()) {
            return Optional.of("this node was downed by the cluster (unreachable too long, or on the minority side"
                    + " of a partition): restart it to join again");
        }
        if (r instanceof NotAdmitted notAdmitted) {
            return Optional.of(notAdmitted.message());
        }
        if (r == CoordinatedShutdown.incompatibleConfigurationDetectedReason()) {
            return Optional.of("the cluster refused this node's configuration as incompatible: see the log");
        }
        return Optional.empty();
    }

    /** The node stops: no seed admitted it within the join time-out ({@link #joinFailure}). */
    record NotAdmitted(String message) implements CoordinatedShutdown.Reason {
    }

    /**
     * The one line for a node that no seed admitted within the join time-out: either no seed runs where
     * {@code --join} says, or the seeds cannot reach this node back (a seed answers over a connection to the
     * address this node advertises: behind NAT, or with a firewall that lets nothing in, that fails).
     */
    static String joinFailure(NodeSettings settings) {
        return "no seed admitted this node within " + settings.joinTimeout().toSeconds() + " s of joining "
                + settings.seedNodes() + ": check --join and that a seed runs there; if one does, it cannot reach this"
                + " node back at " + settings.host() + ":" + settings.port() + " (TCP): every member must accept inbound TCP on its Pekko"
                + " port and UDP on its data-plane port (25520 and 25521 by default); behind NAT, forward both to this"
                + " machine and start it with --host <the address the others reach> --bind-host 0.0.0.0";
    }

    /** Leaves the cluster and terminates, waiting a bounded time. */
    @Override
    public void close() {
        CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.actorSystemTerminateReason());
        try {
            system.getWhenTerminated().toCompletableFuture().get(CLOSE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("node {} did not terminate within {}", system.address(), CLOSE_TIMEOUT, e);
        }
    }
}
