/**
 * Model history anyone can verify: checkpoints in the safetensors format
 * ({@link io.tributary.history.Safetensors}, {@link io.tributary.history.Checkpoint}) and an
 * append-only, hash-chained log of evaluations that names them by SHA-256
 * ({@link io.tributary.history.ModelHistory}). Everything here is plain files and JDK classes, so
 * a history folder can be copied anywhere and checked with nothing but a SHA-256 tool.
 *
 * <p>The {@code run-history} module must never depend on Pekko, Aeron or any other Tributary
 * module: the coordinator and the CLI call it, not the other way round.
 */
package io.tributary.history;
