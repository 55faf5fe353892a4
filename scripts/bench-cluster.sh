#!/usr/bin/env bash
# What pooling pays (PoolingTable): one process against the local cluster (1 ps + 2 trainers) on the
# same cores, sync and local-sgd, float32 and int8 frames, uncapped and capped at 100 Mbit/s.
# Prints a table per repeat, the ratios with their spread, and as its last line exactly
#   sync/local=R1 local-sgd/local=R2 bytes-saved=R3 capped-local-sgd/uncapped=R4
# Usage: scripts/bench-cluster.sh [REPEATS]   (default 2; about 7 minutes per repeat on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
repeats="${1:-2}"
case "$repeats" in *[!0-9]*|''|0) echo "bench-cluster: REPEATS must be a whole number >= 1, got '$repeats'" >&2; exit 2 ;; esac
./mvnw -B -q -DskipTests package -pl benchmarks -am
"$root/scripts/fetch-mnist.sh" >&2
log="$(mktemp -t tributary-bench-cluster.XXXXXX.log)"
echo "# load before: $(uptime)"
echo "# the cluster JVMs' own output: $log; each run's logs: the folders it names"
# stderr (the local cluster's log lines) goes to the log file, so that the ratio line stays last
exec java --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar io.tributary.bench.PoolingTable \
  "$repeats" 2>"$log"
