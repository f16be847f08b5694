#!/usr/bin/env bash
# End-to-end check of one model: generate it, compile it, check the plan, build the
# emitted C++ with the strict flags the API promises, and require the host demo and the
# reference interpreter (`bitgptc run`) to print the same text and logits checksum.
#
# usage: compile_and_compare.sh BUILD_DIR WORK_DIR "MODEL ARGS" "COMPILE ARGS" "RUN ARGS"
#   MODEL ARGS go to make_test_model, or are "file:PATH" to use an existing model.json.
set -euo pipefail
build=$1 work=$2 model_args=$3 compile_args=$4 run_args=$5
rm -rf "$work" && mkdir -p "$work"
cd "$work"

if [[ $model_args == file:* ]]; then
  model=${model_args#file:}
else
  # shellcheck disable=SC2086
  "$build/tests/make_test_model" --out model/model.json --name e2e $model_args
  model=model/model.json
fi

# shellcheck disable=SC2086
"$build/bitgptc" "$model" $compile_args -o out --report-json plan.json > report.txt
"$build/tests/check_plan" plan.json

name=$(basename out/*_demo.cpp _demo.cpp)
cxx=${CXX:-c++}
flags=(-std=c++17 -O2 -Wall -Wextra -Werror -fno-exceptions -fno-rtti)
"$cxx" "${flags[@]}" -c "out/$name.cpp" -o model.o
"$cxx" "${flags[@]}" -c "out/${name}_weights.cpp" -o weights.o
"$cxx" -std=c++17 -O2 -Wall -Wextra -Werror -c "out/${name}_demo.cpp" -Iout -o demo.o
"$cxx" demo.o model.o weights.o -o demo
# The library part must not need the heap.
if nm -C model.o weights.o | grep -E ' U (malloc|free|calloc|realloc|operator new|operator delete|__cxa_throw)' ; then
  echo "FAIL: the emitted model code references the heap or exceptions" >&2
  exit 1
fi

eval "set -- $run_args"
./demo "$@" > demo.txt
# shellcheck disable=SC2086
"$build/bitgptc" run "$model" $compile_args "$@" > run.txt
if ! cmp -s demo.txt run.txt; then
  echo "FAIL: the host demo and 'bitgptc run' differ" >&2
  diff demo.txt run.txt | head -20 >&2
  exit 1
fi
grep -Eq '^logits-checksum: [0-9a-f]{16}$' demo.txt || { echo "FAIL: no checksum line" >&2; exit 1; }
echo "ok: $(tail -n 1 demo.txt)"
