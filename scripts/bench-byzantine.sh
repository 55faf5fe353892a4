#!/usr/bin/env bash
# Builds the benchmarks jar and prints MNIST accuracy with 1 of 5 trainers Byzantine, per rule.
# Usage: scripts/bench-byzantine.sh [ATTACK] [RULE...]   e.g. sign-flip-scale mean centered-clipping median
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -B -q -DskipTests package -pl benchmarks -am
java --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar io.tributary.bench.ByzantineTable "$@" \
  2> >(grep -v 'WARNING: Using incubator modules' >&2)
