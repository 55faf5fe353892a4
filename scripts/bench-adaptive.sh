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
latest() { ls -d "runs/chaos-$1-"* 2>/dev/null | sort | tail -1; }
field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['result']; print(r['$2'] if r else 'nan')" "$1/results.json"; }
rows=()
for ((i = 1; i <= rounds; i++)); do
  for s in straggler-equal adaptive-batch; do
    echo "round $i: $s ..." >&2
    # exit 3 (no verdict false, one unknown: these scenarios have no baseline accuracy) still leaves the
    # measurements in results.json
    rc=0
    bin/tributary chaos run "config/chaos/$s.conf" > "/tmp/bench-adaptive-$s.log" 2>&1 || rc=$?
    if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
      echo "bench-adaptive: $s failed; see /tmp/bench-adaptive-$s.log (exit status $rc)" >&2; exit 1
    fi
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
