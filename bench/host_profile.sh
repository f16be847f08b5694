#!/usr/bin/env bash
# Where a host program's time goes: the 29.4M-parameter random ternary model of
# bench/host_vs_llama_cpp.sh compiled for --target TARGET (default x86-64-v3) with its
# whole context as the window (--sram 8M, as that benchmark), C++ sources built with the
# host compiler at -O2 and the target's -march (steps out of line, so that each has its
# own name), generating N tokens under `perf record`; prints perf's top functions.
# Needs Linux perf (Debian: linux-perf) and a CPU that runs TARGET.
#   [TARGET=x86-64-avx512vnni] bash bench/host_profile.sh [N=256]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
n=${N:-256} target=${TARGET:-x86-64-v3}
[[ -x $build/bitgptc && -x $build/tests/make_test_model ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
command -v perf > /dev/null || { echo "needs perf (Debian: linux-perf)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$build/tests/make_test_model" --out big30m/model.json --name big30m --d 512 --layers 8 --heads 8 --kv-heads 8 --ff 1536 \
  --vocab 4096 --max-seq 512 --tokenizer bpe --sub-norm > /dev/null
"$build/bitgptc" big30m/model.json --target "$target" --sram 8M -o cpp -q
read -r -a march <<< "$(sed -n 's/^ *target_compile_options(big30m PRIVATE .*-fno-rtti \(.*\))$/\1/p' cpp/CMakeLists.txt)"
flags=(-std=c++17 -O2 "${march[@]}")
${CXX:-c++} "${flags[@]}" -c cpp/big30m_weights.cpp -Icpp -o weights.o
${CXX:-c++} "${flags[@]}" -c cpp/big30m.cpp -Icpp -o model.o
${CXX:-c++} "${flags[@]}" cpp/demo/big30m_demo.cpp model.o weights.o -Icpp -o demo
perf record -q -o perf.data ./demo -n "$n" > /dev/null 2>&1
echo "$n tokens of the 29.4M-parameter ternary model, --target $target --sram 8M, C++ build (${flags[*]}):"
perf report -i perf.data --stdio 2> /dev/null | grep -v '^#' | grep '%' | head -n 8
