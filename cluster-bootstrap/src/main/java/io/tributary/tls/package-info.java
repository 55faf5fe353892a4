/**
 * Mutual TLS for the cluster's control plane: the cluster CA and node certificates that carry a
 * node's roles ({@link io.tributary.tls.ClusterCertificates}), loading and checking them
 * ({@link io.tributary.tls.TlsMaterial}), Artery's {@code tls-tcp} engine provider
 * ({@link io.tributary.tls.TributarySslEngineProvider}) and the certificates it saw per peer
 * ({@link io.tributary.tls.PeerCertificates}), which the node guardian checks members' roles against.
 */
package io.tributary.tls;
