/**
 * The run's cluster singleton, {@link io.tributary.coordinator.TrainingCoordinator}, and the plain
 * classes it is made of: who trains ({@link io.tributary.coordinator.Roster}), which samples each
 * trainer computes ({@link io.tributary.coordinator.WorkPlanner}), recovery from a lost or moving
 * shard ({@link io.tributary.coordinator.Recovery}), evaluations, credits and the run's record.
 * docs/architecture.md lists the parts. Depends on protocol, run-history, parameter-server,
 * trainer-actors and cuda-kernels; must never depend on cluster-bootstrap, chaos-tests or benchmarks.
 */
package io.tributary.coordinator;
