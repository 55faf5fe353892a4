/**
 * Mutual TLS for the cluster's control plane: the cluster CA and node certificates that carry a
 * node's roles ({@link io.tributary.tls.ClusterCertificates}), loading and checking them
 * ({@link io.tributary.tls.TlsMaterial}), Artery's {@code tls-tcp} engine provider
 * ({@link io.tributary.tls.TributarySslEngineProvider}) and the certificates it saw per peer
 * ({@link io.tributary.tls.PeerCertificates}), which the node guardian checks members' roles against,
 * and statements a member signs with its TLS key for the others to check against that certificate
 * ({@link io.tributary.tls.MemberSignatures}).
 */
package io.tributary.tls;
