#!/usr/bin/env bash
# Builds the benchmarks jar and prints the CPU backend table (docs/benchmarks.md records its output).
# Usage: scripts/bench-backend.sh [SECONDS_PER_MEASUREMENT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -B -q -DskipTests package -pl benchmarks -am
java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar io.tributary.bench.BackendTable "${1:-1.0}" \
  2> >(grep -v 'WARNING: Using incubator modules' >&2)
