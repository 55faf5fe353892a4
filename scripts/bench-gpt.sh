#!/usr/bin/env bash
# The GPT reference recipe side by side: Tributary's `train --local --model gpt` and the same recipe in
# PyTorch (scripts/gpt-torch-train.py), one after the other on this machine with the same threads,
# REPEATS times; prints a table of validation loss and training tokens/s, and Tributary's ratio to
# PyTorch per repeat.
#
# Usage: scripts/bench-gpt.sh [STEPS] [REPEATS] [THREADS]   (defaults 2000, 1, 2)
# Needs python3-torch (Debian's; scripts/setup.sh installs it). Tributary's CPU backend uses OpenBLAS's
# threads (OPENBLAS_NUM_THREADS=THREADS) and its own loops on one thread.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-2000}"
repeats="${2:-1}"
threads="${3:-2}"
py=/usr/bin/python3
[ -x "$py" ] && "$py" -c 'import torch' 2>/dev/null || py=python3
"$py" -c 'import torch' 2>/dev/null || { echo "bench-gpt: PyTorch not found: install python3-torch (scripts/setup.sh does)" >&2; exit 2; }
data_dir="$("$root/scripts/fetch-moby-dick.sh")"
printf '%-8s %-10s %14s %12s\n' repeat system "val loss" "tokens/s"
for r in $(seq 1 "$repeats"); do
  t_line="$(OPENBLAS_NUM_THREADS="$threads" "$root/bin/tributary" train --local --model gpt --data "$data_dir" \
      --set tributary.gpt.steps="$steps" --set tributary.gpt.checkpoint=/tmp/bench-gpt-$$.safetensors | grep '^result:')"
  t_loss="$(sed -E 's/.*validation loss ([0-9.]+).*/\1/' <<<"$t_line")"
  t_tps="$(sed -E 's/.* ([0-9,]+) tokens\/s.*/\1/' <<<"$t_line" | tr -d ,)"
  p_line="$("$py" "$root/scripts/gpt-torch-train.py" "$data_dir/data.txt" --steps "$steps" --threads "$threads" 2>/dev/null)"
  p_loss="$(sed -E 's/.*validation loss ([0-9.]+).*/\1/' <<<"$p_line")"
  p_tps="$(sed -E 's/.*tokens\/s ([0-9]+).*/\1/' <<<"$p_line")"
  printf '%-8s %-10s %14s %12s\n' "$r" tributary "$t_loss" "$t_tps"
  printf '%-8s %-10s %14s %12s\n' "$r" pytorch "$p_loss" "$p_tps"
  awk -v a="$t_tps" -v b="$p_tps" -v la="$t_loss" -v lb="$p_loss" -v r="$r" \
    'BEGIN { printf "%-8s ratio      loss diff %+.4f   tokens/s %.2fx\n", r, la - lb, a / b }'
done
rm -f /tmp/bench-gpt-$$.safetensors
