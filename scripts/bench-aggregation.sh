#!/usr/bin/env bash
# Builds the benchmarks jar and prints the aggregation table: each rule of tributary.trust.aggregation
# (mean, trimmed-mean, median, centered-clipping) per step for 5 trainers at 134,000 and 2^20 floats,
# relative to the mean in the same run, plus the contribution check. The load average is printed
# before and after: on a busy machine the figures are not comparable with a quiet run.
# Usage: scripts/bench-aggregation.sh [SECONDS_PER_MEASUREMENT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -B -q -DskipTests package -pl benchmarks -am
echo "# load before: $(uptime)"
java --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  -cp benchmarks/target/benchmarks.jar io.tributary.bench.AggregationTable "${1:-1.0}" \
  2> >(grep -v 'WARNING: Using incubator modules' >&2)
echo "# load after: $(uptime)"
