#!/usr/bin/env bash
# What shard replicas cost per step: the same fault-free cluster (3 trainers, 2 ps nodes, one MNIST
# epoch, the sync policy) with tributary.cluster.replicas = 1 (none) and 2 (each shard's owner sends
# every step's aggregate to a replica on the other ps node and announces the step once it holds it),
# back to back, ROUNDS times (default 2). Prints samples/s and ms per step of each run and the ratio
# of replicas 2 to replicas 1 in the same round (the runs of a round share the machine's load).
# Usage: scripts/bench-replicas.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-2}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench-replicas: ROUNDS must be a positive whole number, got '$rounds'" >&2
  exit 2
fi
factors=(1 2)
dir="$(mktemp -d /tmp/bench-replicas.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
# latest, field, run_scenario, fault_free_scenario
source scripts/lib/chaos-bench.sh
for r in "${factors[@]}"; do
  fault_free_scenario "$dir/replicas-$r.conf" "replicas-$r" 2 tributary.cluster.replicas "$r"
done
rows=()
for ((i = 1; i <= rounds; i++)); do
  declare -A sps=() acc=() steps=() secs=()
  for r in "${factors[@]}"; do
    echo "round $i: replicas = $r ..." >&2
    run_scenario bench-replicas "$dir/replicas-$r.conf" "/tmp/bench-replicas-$r.log"
    d="$(latest "replicas-$r")"
    sps[$r]="$(field "$d" samplesPerSecond)"
    acc[$r]="$(field "$d" accuracy)"
    steps[$r]="$(field "$d" steps)"
    secs[$r]="$(field "$d" seconds)"
  done
  rows+=("$(printf '| %d | %s | %s (%s) | %.1f | %s (%s) | %.1f | %.2fx |' "$i" "$(date +%H:%M)" \
    "${sps[1]}" "${acc[1]}" "$(python3 -c "print(1000 * ${secs[1]} / ${steps[1]})")" \
    "${sps[2]}" "${acc[2]}" "$(python3 -c "print(1000 * ${secs[2]} / ${steps[2]})")" \
    "$(python3 -c "print(${sps[2]} / ${sps[1]})")")")
done
echo "| round | ended | replicas 1: samples/s (accuracy) | ms/step | replicas 2: samples/s (accuracy) | ms/step | 2 / 1 |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
