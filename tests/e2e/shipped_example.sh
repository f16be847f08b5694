#!/usr/bin/env bash
# The shipped example: compiled for a Cortex-M4 with 8 KiB of SRAM it fits with a window
# of at least 16 tokens, and its firmware under QEMU (sampling) equals the host reference,
# on the M4 and on the M0 (where the flash budget makes the compiler pack 1.6 bits/weight).
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
model=$source/examples/austen/model.json
"$build/bitgptc" "$model" --target cortex-m4 --sram 8K --report-json "$work/plan.json" -q
"$build/tests/check_plan" "$work/plan.json" --min-window 16
"$build/tests/check_plan" "$work/plan.json"
bash "$source/tests/e2e/compile_and_compare.sh" "$build" "$work/run" "file:$model" "cortex-m4 cortex-m0plus" "--sram 8K" \
  "--prompt 'It is a truth universally acknowledged' -n 120 --temperature 0.8 --seed 1"
cat "$work/run/firmware-cortex-m4.txt"
