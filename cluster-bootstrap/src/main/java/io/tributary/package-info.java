/**
 * The {@code tributary} command and node bootstrap: configuration loading and validation, the
 * local training command; node roles, joining and metrics arrive with the cluster issue. The top
 * of the dependency graph: nothing in Tributary depends on it but chaos-tests and benchmarks.
 */
package io.tributary;
