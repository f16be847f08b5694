#!/usr/bin/env bash
# End-to-end check of one model on one or more targets. For each target: compile, check
# the plan's invariants, and require the reference interpreter (`bitgptc run` with the
# same options) to agree with the emitted code, bit for bit:
#   - on the host: the emitted C++ built with the strict flags the API promises, run as
#     the demo;
#   - on a target with a QEMU board: the firmware built with arm-none-eabi-gcc and run
#     under QEMU, whose measured SRAM peak must lie within the budget and the plan;
#   - then the same through the object backend (--emit obj): the firmware linking the
#     object, and for the host target a demo linking it.
#
# usage: compile_and_compare.sh BUILD_DIR WORK_DIR "MODEL ARGS" "TARGETS" "COMPILE ARGS" "RUN ARGS"
#   MODEL ARGS go to make_test_model, or are "file:PATH" to use an existing model.json.
#   TARGETS is a space-separated list; the host demo is built from the first one's plan.
set -euo pipefail
build=$1 work=$2 model_args=$3 targets=$4 compile_args=$5 run_args=$6
rm -rf "$work" && mkdir -p "$work"
cd "$work"

if [[ $model_args == file:* ]]; then
  model=${model_args#file:}
else
  # shellcheck disable=SC2086
  "$build/tests/make_test_model" --out model/model.json --name e2e $model_args
  model=model/model.json
fi
eval "run=($run_args)"

# The firmware takes the run options as make variables.
prompt="" tokens=64 seed=0 temperature=0
for ((i = 0; i < ${#run[@]}; i += 2)); do
  case ${run[i]} in
    --prompt) prompt=${run[i + 1]} ;;
    -n) tokens=${run[i + 1]} ;;
    --seed) seed=${run[i + 1]} ;;
    --temperature) temperature=${run[i + 1]} ;;
  esac
done

# The firmware in DIR/firmware: build, bound its stack (from GCC's call graphs, when every
# function's frame is in them: not for an object from LLVM), run under QEMU, compare with
# the interpreter, check the measured SRAM peak and flash against the plan.
check_firmware() {
  local dir=$1 target=$2 what=$3 static_bound=$4
  make -s -C "$dir/firmware" > /dev/null
  if ((static_bound)); then
    # The stack reserve the plan counts must cover the deepest call path of the firmware.
    bound=$("$build/tests/stack_bound" Reset_Handler "$dir"/firmware/*.ci)
    reserve=$(sed -n 's/.*"stack_reserve_bytes": \([0-9]*\).*/\1/p' "plan-$target.json")
    if ((bound > reserve)); then
      echo "FAIL: $target worst-case stack $bound bytes exceeds the target's reserve $reserve" >&2
      exit 1
    fi
    echo "ok $target static stack bound $bound <= reserve $reserve"
  fi
  PROMPT=$prompt timeout 600 make -s -C "$dir/firmware" run TOKENS="$tokens" SEED="$seed" TEMPERATURE="$temperature" > "firmware-$what.txt"
  lines=$(wc -l < "run-$target.txt")
  if ! cmp -s <(head -n "$lines" "firmware-$what.txt") "run-$target.txt"; then
    echo "FAIL: the $what firmware and 'bitgptc run' differ" >&2
    diff <(head -n "$lines" "firmware-$what.txt") "run-$target.txt" | head -20 >&2
    exit 1
  fi
  peak=$(sed -n 's/^sram-peak-bytes: //p' "firmware-$what.txt")
  [[ -n $peak ]] || { echo "FAIL: the $what firmware printed no sram-peak-bytes" >&2; exit 1; }
  "$build/tests/check_plan" "plan-$target.json" --sram-peak "$peak"
  flash=$(sed -n 's/^flash-bytes: //p' "firmware-$what.txt")
  "$build/tests/check_plan" "plan-$target.json" --flash-bytes "$flash"
  echo "ok $what firmware: $(grep logits-checksum "firmware-$what.txt"), SRAM peak $peak, flash $flash"
}

# The model code itself must not need the heap or exceptions.
check_no_heap() {
  if nm -C "$@" | grep -E ' U (malloc|free|calloc|realloc|operator new|operator delete|__cxa_throw)'; then
    echo "FAIL: the emitted model code references the heap or exceptions" >&2
    exit 1
  fi
}

# The demo's output against the interpreter's.
compare_demo() {
  local demo=$1 target=$2 what=$3
  "./$demo" "${run[@]}" > "$demo.txt"
  if ! cmp -s "$demo.txt" "run-$target.txt"; then
    echo "FAIL: the $what and 'bitgptc run --target $target' differ" >&2
    diff "$demo.txt" "run-$target.txt" | head -20 >&2
    exit 1
  fi
  echo "ok $what ($target plan): $(tail -n 1 "$demo.txt")"
}

object_backend=1
[[ ${BITGPT_E2E_HOST_ONLY:-0} == 1 ]] && object_backend=0

first=1 done_targets=" "
for target in $targets; do
  # a target named twice (first for the host demo's plan, again in a list of boards) runs once
  [[ $done_targets == *" $target "* ]] && continue
  done_targets+="$target "
  dir=out-$target
  # shellcheck disable=SC2086
  "$build/bitgptc" "$model" --target "$target" $compile_args -o "$dir" --report-json "plan-$target.json" > "report-$target.txt"
  "$build/tests/check_plan" "plan-$target.json"
  # BITGPT_E2E_HOST_ONLY=1 (the sanitizer suite): the interpreter's run is compared with
  # the host demo, built from the first target's plan, and with nothing for the others
  # (their boards are the normal suite's): it runs for the first target only there.
  if ((first)) || [[ ${BITGPT_E2E_HOST_ONLY:-0} != 1 ]]; then
    # shellcheck disable=SC2086
    "$build/bitgptc" run "$model" --target "$target" $compile_args "${run[@]}" > "run-$target.txt"
    grep -Eq '^logits-checksum: [0-9a-f]{16}$' "run-$target.txt" || { echo "FAIL: no checksum line from bitgptc run" >&2; exit 1; }
  fi

  if ((first)); then
    first=0
    name=$(basename "$dir"/demo/*_demo.cpp _demo.cpp)
    cxx=${CXX:-c++}
    # BITGPT_E2E_SANITIZE=1 (the sanitizer suite): the emitted code runs under ASan + UBSan too.
    sanitize=()
    [[ ${BITGPT_E2E_SANITIZE:-0} == 1 ]] && sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all)
    flags=(-std=c++17 -O2 -Wall -Wextra -Werror -fno-exceptions -fno-rtti "${sanitize[@]}")
    "$cxx" "${flags[@]}" -c "$dir/$name.cpp" -o model.o
    "$cxx" "${flags[@]}" -c "$dir/${name}_weights.cpp" -o weights.o
    "$cxx" -std=c++17 -O2 -Wall -Wextra -Werror "${sanitize[@]}" -c "$dir/demo/${name}_demo.cpp" -I"$dir" -o demo.o
    "$cxx" "${sanitize[@]}" demo.o model.o weights.o -o demo
    ((${#sanitize[@]})) || check_no_heap model.o weights.o
    compare_demo demo "$target" "host demo"
  fi

  # BITGPT_E2E_HOST_ONLY=1 (the sanitizer suite): the boards are left to the normal suite.
  if [[ -f $dir/firmware/Makefile && ${BITGPT_E2E_HOST_ONLY:-0} != 1 ]]; then
    check_firmware "$dir" "$target" "$target" 1
  fi

  ((object_backend)) || continue
  obj=obj-$target
  # shellcheck disable=SC2086
  "$build/bitgptc" "$model" --target "$target" $compile_args --emit obj -o "$obj" -q
  check_no_heap "$obj"/*.o
  if [[ $target == host ]]; then
    c++ -std=c++17 -O2 -Wall -Wextra -Werror -c "$obj/demo/${name}_demo.cpp" -I"$obj" -o demo-obj.o
    c++ demo-obj.o "$obj/$name.o" -o demo-obj
    compare_demo demo-obj host "host demo linking the object"
    # and the object optimised for size
    # shellcheck disable=SC2086
    "$build/bitgptc" "$model" --target host $compile_args --emit obj --optimize size -o "$obj-size" -q
    c++ demo-obj.o "$obj-size/$name.o" -o demo-obj-size
    compare_demo demo-obj-size host "host demo linking the object (--optimize size)"
  fi
  if [[ -f $obj/firmware/Makefile ]]; then
    check_firmware "$obj" "$target" "$target-object" 0
  fi
done
