#!/usr/bin/env bash
# CPU backend table: GEMM GFLOP/s (native and Java paths) against the FMA peak, training-step samples/s. Usage: [SECONDS]
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" BackendTable "${1:-1.0}"
