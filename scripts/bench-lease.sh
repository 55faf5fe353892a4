#!/usr/bin/env bash
# What the work-plan lease costs: the same fault-free cluster (3 trainers, 1 ps, one MNIST epoch, the
# sync policy) with tributary.consistency.lease-steps = 8, 2 and 1, back to back, ROUNDS times
# (default 2). Prints samples/s per run and each lease's ratio to lease 8 of the same round (the runs
# of a round share the machine's load of the moment). A trainer that joins mid-run gets its first
# batch `lease-steps` steps after it joined (the next work plan starts at the lease), so a shorter
# lease is a quicker joiner, if it costs no throughput.
# Usage: scripts/bench-lease.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-2}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench-lease: ROUNDS must be a positive whole number, got '$rounds'" >&2
  exit 2
fi
leases=(8 2 1)
dir="$(mktemp -d /tmp/bench-lease.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
# latest, field, run_scenario, fault_free_scenario
source scripts/lib/chaos-bench.sh
for l in "${leases[@]}"; do
  fault_free_scenario "$dir/lease-$l.conf" "lease-$l" 1 tributary.consistency.lease-steps "$l"
done
rows=()
for ((i = 1; i <= rounds; i++)); do
  declare -A sps=() acc=()
  for l in "${leases[@]}"; do
    echo "round $i: lease-steps = $l ..." >&2
    run_scenario bench-lease "$dir/lease-$l.conf" "/tmp/bench-lease-$l.log"
    d="$(latest "lease-$l")"
    sps[$l]="$(field "$d" samplesPerSecond)"
    acc[$l]="$(field "$d" accuracy)"
  done
  rows+=("$(printf '| %d | %s | %s (%s) | %s (%s) | %s (%s) | %.2fx | %.2fx |' "$i" "$(date +%H:%M)" \
    "${sps[8]}" "${acc[8]}" "${sps[2]}" "${acc[2]}" "${sps[1]}" "${acc[1]}" \
    "$(python3 -c "print(${sps[2]} / ${sps[8]})")" "$(python3 -c "print(${sps[1]} / ${sps[8]})")")")
done
echo "| round | ended | lease 8: samples/s (accuracy) | lease 2 | lease 1 | 2 / 8 | 1 / 8 |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
