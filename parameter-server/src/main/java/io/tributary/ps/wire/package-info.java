/**
 * The gradient data plane: the frame layout ({@link io.tributary.ps.wire.FrameHeader}), the embedded
 * Aeron media driver and client ({@link io.tributary.ps.wire.DataPlane}), the chunking sender
 * ({@link io.tributary.ps.wire.FramePublisher}), the polling receive agent
 * ({@link io.tributary.ps.wire.FrameReceiver}) and the shard-side sink that sums gradients in place
 * ({@link io.tributary.ps.wire.GradientAccumulator}).
 *
 * <p>Nothing here allocates per frame or per step once running. This package must never depend on
 * Pekko, on the trainer modules or on cluster-bootstrap: actors drive it, it does not call them.
 */
package io.tributary.ps.wire;
