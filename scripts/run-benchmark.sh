#!/usr/bin/env bash
# Builds the benchmarks jar and runs one of its table programs with the JVM options every
# Tributary process needs, printing the machine's load before and after (the figures are noisy).
# Usage: scripts/run-benchmark.sh CLASS [ARGS...]   e.g. scripts/run-benchmark.sh ClusterTable 1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ $# -ge 1 ] || { echo "usage: scripts/run-benchmark.sh CLASS [ARGS...]" >&2; exit 2; }
class="$1"
shift
./mvnw -B -q -DskipTests package -pl benchmarks -am
echo "# load before: $(uptime)"
java --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar "io.tributary.bench.$class" "$@" \
  2> >(grep -v 'WARNING: Using incubator modules' >&2)
echo "# load after: $(uptime)"
