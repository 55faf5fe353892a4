#!/usr/bin/env bash
# MNIST accuracy with 1 of 5 trainers Byzantine: per rule a clean run and one run per attack.
# Usage: scripts/bench-byzantine.sh RULES ATTACKS [key=value ...]
#   e.g. scripts/bench-byzantine.sh auto,mean,trimmed-mean,median sign-flip,scale,nan,little-is-enough
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" ByzantineTable "$@"
