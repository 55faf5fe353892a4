#!/usr/bin/env bash
# Adaptive batches against equal batches with one 3x-slow trainer (3 trainers, 1 ps, one MNIST epoch):
# runs config/chaos/straggler-equal.conf and config/chaos/adaptive-batch.conf alternately, ROUNDS
# times each (default 2), and prints samples/s per run and the ratio adaptive / equal per round
# (the two runs of a round are back to back, so they share the machine's load of the moment).
# Usage: scripts/bench-adaptive.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-2}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench-adaptive: ROUNDS must be a positive whole number, got '$rounds'" >&2
  exit 2
fi
# latest, field, run_scenario
source scripts/lib/chaos-bench.sh
rows=()
for ((i = 1; i <= rounds; i++)); do
  for s in straggler-equal adaptive-batch; do
    echo "round $i: $s ..." >&2
    # these scenarios have no baseline accuracy: exit status 3 (one verdict unknown) is expected
    run_scenario bench-adaptive "config/chaos/$s.conf" "/tmp/bench-adaptive-$s.log"
    d="$(latest "$s")"
    eval "sps_$(echo "$s" | tr - _)=$(field "$d" samplesPerSecond)"
    eval "sec_$(echo "$s" | tr - _)=$(field "$d" seconds)"
    eval "acc_$(echo "$s" | tr - _)=$(field "$d" accuracy)"
  done
  rows+=("$(printf '| %d | %s | %s (%s s) | %s | %s (%s s) | %s | %.2fx |' "$i" \
    "$(date +%H:%M)" "$sps_straggler_equal" "$sec_straggler_equal" "$acc_straggler_equal" \
    "$sps_adaptive_batch" "$sec_adaptive_batch" "$acc_adaptive_batch" \
    "$(python3 -c "print($sps_adaptive_batch / $sps_straggler_equal)")")")
done
echo "| round | ended | equal batches: samples/s (wall) | accuracy | adaptive: samples/s (wall) | accuracy | adaptive / equal |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
