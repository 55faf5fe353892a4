#!/usr/bin/env bash
# Cluster row (a): local-cluster samples/s over single-process samples/s, same model and batch. Usage: [EPOCHS]
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" ClusterTable "${1:-1}"
