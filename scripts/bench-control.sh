#!/usr/bin/env bash
# What signed control messages cost (docs/security.md, control-plane authorization): the same
# fault-free mutual-TLS cluster (3 trainers, 1 ps, one MNIST epoch, the sync policy) with
# tributary.tls.sign-control-messages = on and = off, back to back, ROUNDS times (default 2).
# Prints samples/s per run and, per round, signed / unsigned (the runs of a round share the
# machine's load of the moment), then the ratio's mean and spread over the rounds.
# Usage: scripts/bench-control.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-2}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench-control: ROUNDS must be a positive whole number, got '$rounds'" >&2
  exit 2
fi
modes=(on off)
dir="$(mktemp -d /tmp/bench-control.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
# latest, field, run_scenario, fault_free_scenario
source scripts/lib/chaos-bench.sh
for m in "${modes[@]}"; do
  fault_free_scenario "$dir/sign-$m.conf" "control-signatures-$m" 1 tributary.tls.sign-control-messages "$m"
done
rows=()
ratios=()
for ((i = 1; i <= rounds; i++)); do
  declare -A sps=() acc=()
  for m in "${modes[@]}"; do
    echo "round $i: sign-control-messages = $m ..." >&2
    run_scenario bench-control "$dir/sign-$m.conf" "/tmp/bench-control-$m.log"
    d="$(latest "control-signatures-$m")"
    sps[$m]="$(field "$d" samplesPerSecond)"
    acc[$m]="$(field "$d" accuracy)"
  done
  r="$(python3 -c "print('%.2f' % (${sps[on]} / ${sps[off]}))")"
  ratios+=("$r")
  rows+=("$(printf '| %d | %s | %s (%s) | %s (%s) | %sx |' "$i" "$(date +%H:%M)" \
    "${sps[on]}" "${acc[on]}" "${sps[off]}" "${acc[off]}" "$r")")
done
echo "| round | ended | signed: samples/s (accuracy) | unsigned | signed / unsigned |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
python3 -c "
import statistics, sys
r = [float(x) for x in sys.argv[1:]]
print('signed / unsigned over %d round(s): mean %.2f, min %.2f, max %.2f' % (len(r), statistics.mean(r), min(r), max(r)))
" "${ratios[@]}"
