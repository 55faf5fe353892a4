#!/usr/bin/env bash
# Robust aggregation against colluding attackers: per cell n:f and attack, SEEDS seeds, each a clean and
# an attacked local cluster of the same seed (the default rule unless tributary.trust.aggregation= is given).
# Usage: scripts/bench-collusion.sh CELLS ATTACKS SEEDS [key=value ...]
#   e.g. scripts/bench-collusion.sh 5:2,6:2 little-is-enough,inner-product 3 tributary.data.train-limit=20000
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" CollusionTable "$@"
