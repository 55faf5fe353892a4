#!/usr/bin/env bash
# Aggregation rules: time per aggregation and cost over the mean. Usage: [SECONDS]
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" AggregationTable "${1:-1.0}"
