/**
 * Training data: the in-memory {@link io.tributary.trainer.data.Dataset}, the MNIST IDX
 * reader, a seeded synthetic generator for fast tests, the partitioner that hands each
 * trainer its disjoint share of samples, and the per-epoch mini-batch iterator.
 *
 * <p>This package is plain Java with no dependency on actors, the network or models: it
 * must never depend on Pekko, Aeron, the parameter server or the model code, so every
 * piece can be used and tested on its own.
 */
package io.tributary.trainer.data;
