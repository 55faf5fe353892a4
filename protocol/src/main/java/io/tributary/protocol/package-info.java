/**
 * The control-plane wire protocol: every message that crosses the network between nodes (all
 * {@link io.tributary.protocol.WireMessage}s), the fixed Kryo registration ids two nodes must
 * agree on ({@link io.tributary.protocol.ProtocolRegistry}) and the Pekko serializer that writes
 * them, plus what every node derives alike ({@link io.tributary.protocol.WorkPlan},
 * {@link io.tributary.protocol.ShardLayout}) and moves in pieces
 * ({@link io.tributary.protocol.ChunkedState}). Depends on Pekko and Kryo only; must never depend
 * on any other Tributary module.
 */
package io.tributary.protocol;
