#!/usr/bin/env bash
# Compile time and peak memory of bitgptc per backend, measured with GNU time as whole
# processes: the shipped example to an object, and a 90M-parameter random host model
# (make_test_model) to an object and to C++ sources, the latter also built with the host
# C++ compiler as the C++ backend's users would (its weights source is the big part).
# Prints one Markdown table. Wall times depend on the machine and its load: run it on a
# quiet machine, and read the memory column as the firmer figure.
#   bash bench/compile_time.sh [SKIP_GCC=1]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
[[ -x $build/bitgptc && -x $build/tests/make_test_model ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
command -v /usr/bin/time > /dev/null || { echo "needs GNU time (Debian: time)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() {  # measure LABEL COMMAND... -> a table row: seconds, peak RSS
  local label=$1
  shift
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" > /dev/null
  read -r seconds kib < "$work/time.txt"
  echo "| $label | $seconds | $((kib / 1024)) |"
}

"$build/tests/make_test_model" --out "$work/big/model.json" --name big --d 768 --layers 12 --heads 12 --kv-heads 12 --ff 2048 \
  --vocab 4096 --max-seq 256 > /dev/null
params=$(sed -n 's/.*"parameters": \([0-9]*\).*/\1/p' <("$build/bitgptc" "$work/big/model.json" --sram 64M --flash 1G --report-json - 2> /dev/null) | head -n 1)

echo "| what | seconds | peak memory (MiB) |"
echo "|---|---|---|"
measure "shipped example -> object, cortex-m4 8K" "$build/bitgptc" "$root/examples/austen/model.json" --target cortex-m4 --sram 8K --emit obj -o "$work/ex" -q
measure "shipped example -> C++ sources, cortex-m4 8K" "$build/bitgptc" "$root/examples/austen/model.json" --target cortex-m4 --sram 8K -o "$work/excpp" -q
measure "random ${params:-90M}-parameter model -> object, host" "$build/bitgptc" "$work/big/model.json" --sram 64M --flash 1G --emit obj -o "$work/bigobj" -q
measure "random ${params:-90M}-parameter model -> C++ sources, host" "$build/bitgptc" "$work/big/model.json" --sram 64M --flash 1G -o "$work/bigcpp" -q
if [[ ${SKIP_GCC:-0} != 1 ]]; then
  measure "  its weights source built by ${CXX:-c++} -O2" "${CXX:-c++}" -std=c++17 -O2 -c "$work/bigcpp/big_weights.cpp" -I"$work/bigcpp" -o "$work/w.o"
fi
