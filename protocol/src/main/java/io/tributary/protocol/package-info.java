/**
 * The control-plane wire protocol: every message that crosses the network between nodes (all
 * {@link io.tributary.protocol.WireMessage}s), the fixed Kryo registration ids two nodes must
 * agree on ({@link io.tributary.protocol.ProtocolRegistry}) and the Pekko serializer that writes
 * them. Depends on Pekko and Kryo only; must never depend on trainer-actors or cluster-bootstrap.
 */
package io.tributary.protocol;
