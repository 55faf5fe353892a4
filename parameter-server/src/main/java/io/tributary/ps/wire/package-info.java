/**
 * The gradient data plane: the frame layout ({@link io.tributary.ps.wire.FrameHeader}), the embedded
 * Aeron media driver and client ({@link io.tributary.ps.wire.DataPlane}), the chunking sender
 * ({@link io.tributary.ps.wire.FramePublisher}), the polling receive agent that validates headers
 * ({@link io.tributary.ps.wire.FrameReceiver}), the {@link io.tributary.ps.wire.FrameSink} it hands
 * payloads to, and bulk float copies between frames and arrays ({@link io.tributary.ps.wire.DirectFloats}).
 * The sinks themselves (a shard's contribution slots, a replica's parameter assembler) and the node's
 * routing live in {@code io.tributary.ps.node}.
 *
 * <p>Nothing here allocates per frame or per step once running. This package must never depend on
 * Pekko, on the trainer modules, on cluster-bootstrap or on {@code io.tributary.ps.node}: actors and
 * the node drive it, it does not call them.
 */
package io.tributary.ps.wire;
