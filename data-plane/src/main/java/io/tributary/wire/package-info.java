/**
 * The gradient data plane: the frame layout ({@link io.tributary.wire.FrameHeader}), the embedded
 * Aeron media driver and client ({@link io.tributary.wire.DataPlane}), the chunking sender
 * ({@link io.tributary.wire.FramePublisher}), the polling receive agent that validates headers
 * ({@link io.tributary.wire.FrameReceiver}), the {@link io.tributary.wire.FrameSink} it hands
 * payloads to, the payload encodings, float32 and compressed ({@link io.tributary.wire.Encoding}), and
 * bulk float copies between frames and arrays ({@link io.tributary.wire.DirectFloats}).
 * The sinks themselves (a shard's contribution slots, a replica's parameter assembler) and the node's
 * routing live in {@code io.tributary.dataplane}.
 *
 * <p>Nothing here allocates per frame or per step once running. This package must never depend on
 * Pekko, on the trainer modules, on cluster-bootstrap or on {@code io.tributary.dataplane}: actors and
 * the node drive it, it does not call them.
 */
package io.tributary.wire;
