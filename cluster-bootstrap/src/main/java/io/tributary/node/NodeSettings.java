package io.tributary.node;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The settings of one node, read once from {@code tributary.node} and validated here.
 *
 * @param roles       the node's roles, a subset of {@link #KNOWN_ROLES}
 * @param host        the address other nodes reach this one at (Pekko's canonical host, and the host of the
 *                    data-plane endpoint this node announces)
 * @param port        the Pekko port other nodes reach this one at; 0 picks a free one
 * @param seedNodes   the nodes to join; empty starts a new cluster
 * @param metricsPort the Prometheus port; 0 picks a free one; {@link #AUTO}: {@code port + 2} (0 when port is 0)
 * @param bindHost    the address this node listens on (Pekko, the data plane, metrics) when it is not
 *                    {@code host} (in a container, behind a port-forward); empty: {@code host}
 * @param bindPort    the port Pekko listens on when it is not {@code port}; {@link #AUTO}: {@code port}
 * @param joinTimeout how long a node with seeds waits to be admitted before it stops and says why
 */
public record NodeSettings(Set<String> roles, String host, int port, List<HostPort> seedNodes, int metricsPort,
                           String bindHost, int bindPort, java.time.Duration joinTimeout) {

    /** How long a node waits to be admitted by default. */
    public static final java.time.Duration DEFAULT_JOIN_TIMEOUT = java.time.Duration.ofSeconds(60);

    /** The roles a node may play. */
    public static final Set<String> KNOWN_ROLES = Set.of("coordinator", "ps", "trainer", "observer");

    /** A port given as {@code auto}: derived from the Pekko port (see the parameters). */
    public static final int AUTO = -1;

    /** The default Pekko port; the data plane's is one above it and the metrics' two above, unless set. */
    public static final int DEFAULT_PORT = 25520;

    /** A node that listens where others reach it. */
    public NodeSettings(Set<String> roles, String host, int port, List<HostPort> seedNodes, int metricsPort) {
        this(roles, host, port, seedNodes, metricsPort, "", AUTO, DEFAULT_JOIN_TIMEOUT);
    }

    /** A {@code host:port} pair, as a seed node is given. */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }

        /**
         * Parses {@code host:port} (an IPv6 host in brackets).
         *
         * @throws NodeStartException naming the bad value and the expected form
         */
        public static HostPort parse(String value, String what) {
            String v = value.trim();
            int colon = v.lastIndexOf(':');
            String host = colon > 0 ? v.substring(0, colon) : "";
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port = -1;
            if (colon > 0) {
                try {
                    port = Integer.parseInt(v.substring(colon + 1));
                } catch (NumberFormatException e) {
                    port = -1;
                }
            }
            if (host.isEmpty() || host.contains("/") || host.contains("@") || port < 1 || port > 65535) {
                throw new NodeStartException(what + " '" + value + "' is not host:port: give it as host:port with"
                        + " a port in 1..65535, e.g. --join 127.0.0.1:25520");
            }
            return new HostPort(host, port);
        }
    }

    public NodeSettings {
        roles = Set.copyOf(roles);
        seedNodes = List.copyOf(seedNodes);
        for (String role : roles) {
            if (!KNOWN_ROLES.contains(role)) {
                throw new NodeStartException("unknown role '" + role + "' in tributary.node.roles (--roles):"
                        + " use coordinator, ps or trainer");
            }
        }
        if (roles.isEmpty()) {
            throw new NodeStartException("tributary.node.roles (--roles) is empty: give at least one of"
                    + " coordinator, ps, trainer");
        }
        if (host.isBlank()) {
            throw new NodeStartException("tributary.node.host is empty: give the address other nodes reach"
                    + " this one at, e.g. 127.0.0.1");
        }
        checkPort(port, "tributary.node.port (--port)");
        if (metricsPort != AUTO) {
            checkPort(metricsPort, "tributary.node.metrics-port (--metrics-port)");
        } else if (port > 65533) {
            throw new NodeStartException("tributary.node.metrics-port is auto (the Pekko port + 2) but the Pekko port is "
                    + port + ": give --metrics-port, or a Pekko port up to 65533");
        }
        bindHost = bindHost == null ? "" : bindHost.trim();
        if (bindPort != AUTO) {
            checkPort(bindPort, "tributary.node.bind-port (--bind-port)");
        }
        if (joinTimeout == null || joinTimeout.toMillis() < 1000) {
            throw new NodeStartException("tributary.node.join-timeout is " + joinTimeout + ": give at least 1s, e.g. 60s");
        }
    }

    /** The address this node listens on: {@link #bindHost}, or {@link #host} when that is empty. */
    public String listenHost() {
        return bindHost.isEmpty() ? host : bindHost;
    }

    /** The Prometheus port to open: {@link #metricsPort}, or for {@link #AUTO} the Pekko port + 2 (0 with port 0). */
    public int resolvedMetricsPort() {
        return metricsPort != AUTO ? metricsPort : port == 0 ? 0 : port + 2;
    }

    /**
     * The data-plane (Aeron UDP) port for a configured {@code dataPlanePort}: itself, or for {@link #AUTO} the Pekko
     * port + 1 (0, a free one, when the Pekko port is 0).
     */
    public int resolvedDataPlanePort(int dataPlanePort) {
        if (dataPlanePort != AUTO) {
            return dataPlanePort;
        }
        if (port > 65534) {
            throw new NodeStartException("tributary.data-plane.port is auto (the Pekko port + 1) but the Pekko port is "
                    + port + ": give tributary.data-plane.port, or a Pekko port up to 65534");
        }
        return port == 0 ? 0 : port + 1;
    }

    /** Whether this node and every seed it joins are on loopback addresses (a cluster on one machine). */
    public boolean allOnLoopback() {
        if (!isLoopback(host)) {
            return false;
        }
        for (HostPort seed : seedNodes) {
            if (!isLoopback(seed.host())) {
                return false;
            }
        }
        return true;
    }

    /**
     * A warning when this node advertises a loopback address but joins a seed elsewhere: the seed and every other
     * member would try to reach it at that loopback address, which is their own machine; empty otherwise.
     */
    public java.util.Optional<String> loopbackWarning() {
        if (!isLoopback(host)) {
            return java.util.Optional.empty();
        }
        for (HostPort seed : seedNodes) {
            if (!isLoopback(seed.host())) {
                return java.util.Optional.of("this node advertises the loopback address " + host + " but joins " + seed
                        + ", which is not on this machine: the other members cannot reach it at " + host
                        + "; start it with --host set to an address of this machine that they can reach");
            }
        }
        return java.util.Optional.empty();
    }

    /** Whether {@code host} is a loopback address or {@code localhost} (by its text: no name lookup). */
    static boolean isLoopback(String host) {
        String h = host.trim().toLowerCase(java.util.Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
    }

    /** Reads and validates {@code tributary.node}. */
    public static NodeSettings from(Config config) {
        Config c = config.getConfig("tributary.node");
        List<HostPort> seeds = new ArrayList<>();
        for (String s : c.getStringList("seed-nodes")) {
            seeds.add(HostPort.parse(s, "seed node"));
        }
        return new NodeSettings(new LinkedHashSet<>(c.getStringList("roles")), c.getString("host"),
                c.getInt("port"), seeds, portOrAuto(c, "metrics-port", "tributary.node.metrics-port"),
                c.getString("bind-host"), portOrAuto(c, "bind-port", "tributary.node.bind-port"),
                c.getDuration("join-timeout"));
    }

    /** {@code key} of {@code c} as a port number, or {@link #AUTO} for {@code auto}. */
    static int portOrAuto(Config c, String key, String name) {
        String v = c.getString(key).trim();
        if (v.equalsIgnoreCase("auto")) {
            return AUTO;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new NodeStartException(name + " is '" + v + "': use a port in 1..65535, 0 for a free one, or auto");
        }
    }

    private static void checkPort(int port, String key) {
        if (port < 0 || port > 65535) {
            throw new NodeStartException(key + " is " + port + ": use a port in 1..65535, or 0 for a free one");
        }
    }
}
