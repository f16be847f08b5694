#!/usr/bin/env bash
# Where a host program's time goes: the 29.4M-parameter random ternary model of
# bench/host_vs_llama_cpp.sh compiled for --target x86-64-v3 (C++ sources, built with the
# host compiler at -O2 -march=x86-64-v3, functions kept out of line so that each step has
# its own name), generating N tokens under `perf record`; prints perf's top functions.
# Needs Linux perf (Debian: linux-perf) and an AVX2 machine.
#   bash bench/host_profile.sh [N=256]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
n=${N:-256}
[[ -x $build/bitgptc && -x $build/tests/make_test_model ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
command -v perf > /dev/null || { echo "needs perf (Debian: linux-perf)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$build/tests/make_test_model" --out big30m/model.json --name big30m --d 512 --layers 8 --heads 8 --kv-heads 8 --ff 1536 \
  --vocab 4096 --max-seq 512 --tokenizer bpe --sub-norm > /dev/null
"$build/bitgptc" big30m/model.json --target x86-64-v3 -o cpp -q
flags=(-std=c++17 -O2 -march=x86-64-v3)
${CXX:-c++} "${flags[@]}" -c cpp/big30m_weights.cpp -Icpp -o weights.o
${CXX:-c++} "${flags[@]}" -fno-inline-functions -c cpp/big30m.cpp -Icpp -o model.o
${CXX:-c++} "${flags[@]}" cpp/demo/big30m_demo.cpp model.o weights.o -Icpp -o demo
perf record -q -o perf.data ./demo -n "$n" > /dev/null 2>&1
echo "$n tokens of the 29.4M-parameter ternary model, --target x86-64-v3, C++ build:"
perf report -i perf.data --stdio 2> /dev/null | grep -v '^#' | grep '%' | head -n 8
