#!/usr/bin/env bash
# Runs one harness for RUNS executions from its committed seeds (and the dictionary), with
# a fixed seed, so the run is the same every time; exits non-zero on any finding.
#   run_fuzzer.sh HARNESS SEED_DIR DICT WORK_DIR RUNS
set -euo pipefail
harness=$(realpath "$1") seeds=$(realpath "$2") dict=$(realpath "$3") work=$4 runs=$5
rm -rf "$work" && mkdir -p "$work/corpus"
cd "$work"
# New inputs go to the work corpus; the committed seeds are only read.
"$harness" -seed=1 -runs="$runs" -max_len=16384 -dict="$dict" -print_final_stats=1 "$work/corpus" "$seeds" 2>&1 | tail -n 25
