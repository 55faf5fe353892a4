/**
 * A node's data plane over the {@link io.tributary.wire} frames: one embedded media driver and one
 * receiver per JVM ({@link io.tributary.dataplane.NodeDataPlane}), the per-trainer gradient slots a
 * shard aggregates from ({@link io.tributary.dataplane.ContributionSlots}), the parameter replicas
 * trainers and the coordinator read ({@link io.tributary.dataplane.ParameterAssembler}), the fault
 * hooks the chaos tool plugs in and the data plane's metrics. The {@code data-plane} module depends
 * on protocol only; it must never depend on parameter-server, trainer-actors, coordinator or
 * cluster-bootstrap.
 */
package io.tributary.dataplane;
