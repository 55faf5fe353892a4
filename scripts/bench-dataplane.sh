#!/usr/bin/env bash
# Builds the benchmarks jar and prints the gradient data-plane table: Aeron UDP on 127.0.0.1 into the
# shard's ContributionSlots against raw Aeron, the shard's aggregation on CpuBackend against plain
# loops, and receive-path allocation. The load average is printed before and after: on a busy
# machine the figures are not comparable with a quiet run.
# Usage: scripts/bench-dataplane.sh [SECONDS_PER_MEASUREMENT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -B -q -DskipTests package -pl benchmarks -am
echo "# load before: $(uptime)"
# Agrona 2.x (under Aeron) reaches buffers through jdk.internal.misc.Unsafe.
java --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  -cp benchmarks/target/benchmarks.jar io.tributary.bench.DataPlaneTable "${1:-2.0}" \
  2> >(grep -v 'WARNING: Using incubator modules' >&2)
echo "# load after: $(uptime)"
