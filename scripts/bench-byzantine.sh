#!/usr/bin/env bash
# MNIST accuracy with 1 of 5 trainers Byzantine, per rule. Usage: [ATTACK] [RULE...], e.g. sign-flip-scale median trimmed-mean
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" ByzantineTable "$@"
