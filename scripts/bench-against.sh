#!/usr/bin/env bash
# The cluster benchmark (ClusterTable: one MNIST epoch, 1 ps + 2 trainers, against one process) on
# two commits of this repository, back to back, alternately, ROUNDS times: what a refactoring costs
# or gains, measured in one run on one machine. Each commit is built in its own temporary worktree.
# Usage: scripts/bench-against.sh BASE-COMMIT [ROUNDS] [EPOCHS]   e.g. scripts/bench-against.sh 4c46238 2
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ $# -ge 1 ] || { echo "usage: scripts/bench-against.sh BASE-COMMIT [ROUNDS] [EPOCHS]" >&2; exit 2; }
base="$(git rev-parse --short "$1")" || { echo "bench-against: '$1' is not a commit of this repository" >&2; exit 2; }
rounds="${2:-2}"
epochs="${3:-1}"
case "$rounds$epochs" in *[!0-9]*|'') echo "bench-against: ROUNDS and EPOCHS must be whole numbers" >&2; exit 2 ;; esac
head="$(git rev-parse --short HEAD)"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; git worktree remove --force "$work/head" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for c in base head; do
  commit="$base"; [ "$c" = head ] && commit="$head"
  git worktree add -q --detach "$work/$c" "$commit"
  (cd "$work/$c" && ./mvnw -B -q -o -DskipTests package -pl benchmarks -am) >&2 \
    || { echo "bench-against: building $commit failed" >&2; exit 1; }
done
run() {
  java --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED -cp "$work/$1/benchmarks/target/benchmarks.jar" \
    io.tributary.bench.ClusterTable "$epochs" 2>/dev/null | sed -n 's/^| samples\/s over the run | \([0-9,]*\) | \([0-9,]*\) | \([0-9.]*\) |$/\1 \2 \3/p' | tr -d ,
}
echo "# load before: $(uptime)"
echo "| round | commit | local samples/s | cluster samples/s | cluster/local |"
echo "|---|---|---|---|---|"
declare -a ratios
for r in $(seq 1 "$rounds"); do
  for c in base head; do
    commit="$base"; [ "$c" = head ] && commit="$head"
    read -r local cluster ratio < <(run "$c") || { echo "bench-against: the benchmark of $commit printed no result" >&2; exit 1; }
    echo "| $r | $commit | $local | $cluster | $ratio |"
    eval "cl_${c}_$r=$cluster"
  done
  b="cl_base_$r"; h="cl_head_$r"
  ratios+=("$(awk -v h="${!h}" -v b="${!b}" 'BEGIN { printf "%.2f", h / b }')")
done
echo "# load after: $(uptime)"
echo "head/base cluster samples/s per round: ${ratios[*]}"
