#!/usr/bin/env bash
# Builds the benchmarks jar and prints row (a) of the cluster benchmark: local-cluster samples/s
# over single-process samples/s, same model and global batch, one run (docs/benchmarks.md).
# Usage: scripts/bench-cluster.sh [EPOCHS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -B -q -DskipTests package -pl benchmarks -am
java --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar io.tributary.bench.ClusterTable "${1:-1}" \
  2> >(grep -v 'WARNING: Using incubator modules' >&2)
