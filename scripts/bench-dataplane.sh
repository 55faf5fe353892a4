#!/usr/bin/env bash
# Data-plane table: pipeline vs raw Aeron (b), shard aggregation vs plain loops (c), receive-path allocation (d). Usage: [SECONDS]
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" DataPlaneTable "${1:-2.0}"
