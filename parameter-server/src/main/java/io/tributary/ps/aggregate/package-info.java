/**
 * Validation and aggregation of the trainers' gradients inside a parameter shard:
 * {@link io.tributary.ps.aggregate.ContributionCheck} screens one gradient slot (finite values, a norm
 * bound) and an {@link io.tributary.ps.aggregate.AggregationRule} combines the accepted slots into one
 * gradient (mean, trimmed mean, coordinate-wise median, centered clipping), configured by
 * {@link io.tributary.ps.aggregate.AggregationSettings} ({@code tributary.trust}).
 *
 * <p>Everything here works on plain {@code float[]} slots, preallocates its scratch for (max trainers,
 * shard length) and allocates nothing per step. Depends on the JDK (Vector API) and Typesafe Config
 * only; must never depend on Pekko, Aeron, the shard actor, trainer-actors or cluster-bootstrap.
 */
package io.tributary.ps.aggregate;
