#!/usr/bin/env bash
# Host decode speed of bitgptc's emitted code against llama.cpp's, one thread each, on the
# same GGUF file, the same machine, in one run of this script (issue: "host speed against
# llama.cpp"). llama.cpp is node-llama-cpp@3.21.1's prebuilt CPU library
# (tests/tools/llama_cpp_setup.sh installs it into the build's cache), driven by
# tests/tools/llama_cpp_oracle.c `generate`: BOS, then N greedy tokens decoded one at a
# time. bitgptc compiles the same GGUF as an LLVM object for --target x86-64-v3 (AVX2
# kernels, runtime/bitgpt_avx2.h), for --target x86-64-avx512vnni where this CPU has
# AVX-512 VNNI (runtime/bitgpt_avx512.h), and for --target host (no vector kernels), and
# its demo generates N tokens. Both processes are timed whole (loading included) by bash's clock,
# A B A B ... for RUNS pairs; the table gives the median wall time of each, tokens per
# second, and the median of the per-pair ratios (llama.cpp / bitgptc: > 1 is bitgptc
# faster).
# Models: the shipped example (GGUF F32: its 128/384-column rows fill no TQ block, so
# llama.cpp runs it in float; also llama.cpp's own TQ2_0 request, which falls back to
# Q4_0), and a random ternary model of ~30M parameters whose rows are whole 256-element
# blocks, quantised by llama.cpp to TQ2_0 (the ternary type both read).
#   bash bench/host_vs_llama_cpp.sh [N=256] [RUNS=7]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
n=${N:-256} runs=${RUNS:-7}
[[ -x $build/bitgptc && -x $build/tests/make_test_model ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
source "$root/tests/tools/llama_cpp_setup.sh"
llama_cpp_setup "$build" >&2 || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
llama_cpp_build_oracle "$root" oracle

# bitgptc's host program for a GGUF: the model as an LLVM object, linked with its demo.
# --sram 8M gives both models a window of their whole context (max_seq_len), as llama.cpp
# keeps every token it decodes (the host targets' default 1 MiB would give the 30M model
# 122 slots: less attention work than llama.cpp does past token 122).
ours() {  # ours GGUF DIR TARGET
  "$build/bitgptc" "$1" --target "$3" --sram 8M --emit obj -o "$2" -q
  local name
  name=$(basename "$2"/demo/*_demo.cpp _demo.cpp)
  ${CXX:-c++} -std=c++17 -O2 "$2/demo/${name}_demo.cpp" "$2/$name.o" -I"$2" -o "$2/demo.bin"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
seconds() {  # the wall time of one whole process, to the microsecond (bash's clock)
  local t0=$EPOCHREALTIME
  "$@" > /dev/null 2>&1
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f\n", b - a }'
}

row() {  # row LABEL PARAMS GGUF OURS_DIR
  local label=$1 params=$2 gguf=$3 dir=$4 a b
  : > ours.txt
  : > theirs.txt
  : > ratio.txt
  for ((i = 0; i < runs; ++i)); do
    a=$(seconds "$dir/demo.bin" -n "$n")
    b=$(seconds ./oracle generate "$bins" "$gguf" "$n")
    echo "$a" >> ours.txt
    echo "$b" >> theirs.txt
    awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) print b / a }' >> ratio.txt
  done
  local ma mb mr
  ma=$(median < ours.txt) mb=$(median < theirs.txt) mr=$(median < ratio.txt)
  awk -v l="$label" -v p="$params" -v a="$ma" -v b="$mb" -v r="$mr" -v n="$n" \
    'BEGIN { printf "| %s | %s | %.3f | %.0f | %.3f | %.0f | %.2f |\n", l, p, a, (a > 0 ? n / a : 0), b, (b > 0 ? n / b : 0), r }'
}

# the shipped example: GGUF F32, and llama.cpp's TQ2_0 request (Q4_0 for every matrix)
"$build/bitgptc" convert "$root/examples/austen/model.json" --to gguf austen-f32.gguf
./oracle quantize "$bins" austen-f32.gguf austen-tq2.gguf tq2_0 2> /dev/null
ours austen-f32.gguf ex host
ours austen-f32.gguf ex3 x86-64-v3
# ~30M random ternary parameters, rows of 512 and 1536 columns (whole TQ blocks)
"$build/tests/make_test_model" --out big30m/model.json --name big30m --d 512 --layers 8 --heads 8 --kv-heads 8 --ff 1536 \
  --vocab 4096 --max-seq 512 --tokenizer bpe --sub-norm > /dev/null
"$build/bitgptc" convert big30m/model.json --to gguf big-f32.gguf
./oracle quantize "$bins" big-f32.gguf big-tq2.gguf tq2_0 2> /dev/null
ours big-tq2.gguf big host
ours big-tq2.gguf big3 x86-64-v3
vnni=0
grep -qw avx512_vnni /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && vnni=1
if ((vnni)); then
  ours austen-f32.gguf ex4 x86-64-avx512vnni
  ours big-tq2.gguf big4 x86-64-avx512vnni
fi
params() { "$build/bitgptc" "$1" --sram 64M --flash 1G --report-json - 2> /dev/null | sed -n 's/.*"parameters": \([0-9]*\).*/\1/p' | head -n 1; }

echo "$n tokens, $runs paired runs, one thread each, $(uname -m), $(nproc) cores; times are whole processes (loading included)"
echo
echo "| model | parameters | bitgptc s | bitgptc tok/s | llama.cpp s | llama.cpp tok/s | llama.cpp / bitgptc |"
echo "|---|---|---|---|---|---|---|"
row "shipped example, GGUF F32; bitgptc x86-64-v3" "$(params austen-f32.gguf)" austen-f32.gguf ex3
row "shipped example, GGUF F32; bitgptc host" "$(params austen-f32.gguf)" austen-f32.gguf ex
row "shipped example, llama.cpp's TQ2_0 request (Q4_0); bitgptc x86-64-v3" "$(params austen-f32.gguf)" austen-tq2.gguf ex3
row "random ternary, GGUF TQ2_0; bitgptc x86-64-v3" "$(params big-tq2.gguf)" big-tq2.gguf big3
if ((vnni)); then
  row "shipped example, GGUF F32; bitgptc x86-64-avx512vnni" "$(params austen-f32.gguf)" austen-f32.gguf ex4
  row "random ternary, GGUF TQ2_0; bitgptc x86-64-avx512vnni" "$(params big-tq2.gguf)" big-tq2.gguf big4
fi
row "random ternary, GGUF TQ2_0; bitgptc host" "$(params big-tq2.gguf)" big-tq2.gguf big
