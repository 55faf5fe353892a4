/**
 * A Tributary node: its settings, the Pekko cluster member it runs (roles, joining, protocol
 * version check, member-event logging), its Prometheus endpoint and the {@code tributary node}
 * command. Nothing in Tributary depends on this package but the CLI, chaos-tests and benchmarks.
 */
package io.tributary.node;
