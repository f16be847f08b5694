#!/usr/bin/env bash
# Long fuzzing runs: builds the harnesses (clang-19, ASan + UBSan, libFuzzer) in
# build-fuzz/ and runs one harness, or each in turn, for RUNS executions (default one
# million), keeping what it finds in build-fuzz/fuzz-long/<harness>/. Prints libFuzzer's
# final statistics; a crash stops it with the reproducer's path.
#   bash scripts/fuzz.sh [HARNESS|all] [RUNS]     HARNESS: model_json llama2c tokenizer pipeline
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
which=${1:-all} runs=${2:-1000000}
dir=$root/build-fuzz
CC=clang-19 CXX=clang++-19 cmake -S "$root" -B "$dir" -G Ninja -DBITGPT_SANITIZE=ON -DBITGPT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
harnesses=(model_json llama2c tokenizer pipeline)
[[ $which == all ]] || harnesses=("$which")
cmake --build "$dir" --target "${harnesses[@]/#/fuzz_}"
for h in "${harnesses[@]}"; do
  echo "== fuzz_$h: $runs executions"
  bash "$root/tests/fuzz/run_fuzzer.sh" "$dir/tests/fuzz/fuzz_$h" "$root/tests/fuzz/seeds/$h" "$root/tests/fuzz/dict/$h.dict" \
    "$dir/fuzz-long/$h" "$runs"
done
