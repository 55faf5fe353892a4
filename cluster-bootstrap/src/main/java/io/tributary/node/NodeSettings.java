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
 * @param host        the address other nodes reach this one at
 * @param port        the Pekko port; 0 picks a free one
 * @param seedNodes   the nodes to join; empty starts a new cluster
 * @param metricsPort the Prometheus port; 0 picks a free one
 */
public record NodeSettings(Set<String> roles, String host, int port, List<HostPort> seedNodes, int metricsPort) {

    /** The roles a node may play. */
    public static final Set<String> KNOWN_ROLES = Set.of("coordinator", "ps", "trainer");

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
        checkPort(metricsPort, "tributary.node.metrics-port (--metrics-port)");
    }

    /** Reads and validates {@code tributary.node}. */
    public static NodeSettings from(Config config) {
        Config c = config.getConfig("tributary.node");
        List<HostPort> seeds = new ArrayList<>();
        for (String s : c.getStringList("seed-nodes")) {
            seeds.add(HostPort.parse(s, "seed node"));
        }
        return new NodeSettings(new LinkedHashSet<>(c.getStringList("roles")), c.getString("host"),
                c.getInt("port"), seeds, c.getInt("metrics-port"));
    }

    private static void checkPort(int port, String key) {
        if (port < 0 || port > 65535) {
            throw new NodeStartException(key + " is " + port + ": use a port in 1..65535, or 0 for a free one");
        }
    }
}
