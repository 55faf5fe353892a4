/**
 * Tensors and math backends: the {@link io.tributary.kernels.Backend} interface, a CPU
 * implementation over the machine's BLAS with a Vector API fallback, and a CUDA implementation
 * over JCublas2 and our own PTX kernels. This module knows nothing of Pekko, Aeron or training;
 * it must never depend on another Tributary module.
 */
package io.tributary.kernels;
