/**
 * The parameter server: optimizers today; the wire protocol, parameter shards and aggregation as
 * the cluster issue lands. Depends on cuda-kernels only; must never depend on trainer-actors or
 * cluster-bootstrap.
 */
package io.tributary.ps;
