/**
 * Trainer side: models (layers, the MLP), data (MNIST IDX, synthetic sets, partitioning, batches)
 * and the single-process training loop; the trainer actor arrives with the cluster issue.
 * Depends on cuda-kernels and parameter-server; must never depend on cluster-bootstrap.
 */
package io.tributary.trainer;
