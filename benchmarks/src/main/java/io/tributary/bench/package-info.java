/**
 * Benchmarks: JMH micro-benchmarks (GEMM, the training step) and programs that print tables of
 * ratios measured in one run. Sits on top of everything; nothing may depend on it.
 */
package io.tributary.bench;
