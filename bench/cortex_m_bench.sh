#!/usr/bin/env bash
# Executed instructions per generated token of a model's firmware under QEMU, counted
# exactly by the project's TCG plugin, with flash and measured SRAM. Prints one
# Markdown table. Run from the repository root after building (cmake --build build).
#
#   bash bench/cortex_m_bench.sh [MODEL.json] [SRAM] [TARGETS...]
#
# Instructions per token come from two runs that differ only in the number of generated
# tokens (N1 and N2, both past the attention window so every token attends to a full
# window): (count(N2) - count(N1)) / (N2 - N1). Start-up, prompt and reporting cancel.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/examples/austen/model.json}
sram=${2:-8K}
shift $(( $# > 2 ? 2 : $# ))
targets=${*:-cortex-m4}
build=$root/build
plugin=$build/bench/libqemu_insn_count.so
[[ -x $build/bitgptc && -f $plugin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

count() {  # count DIR TOKENS -> executed instructions
  make -s -C "$1" run TOKENS="$2" SEED=1 PLUGIN="$plugin,out=$work/count.txt" > "$work/out.txt"
  sed -n 's/^instructions: //p' "$work/count.txt"
}

echo "| model | target | kernel | packing | window | flash bytes | SRAM peak | instructions/token | instructions/weight/token |"
echo "|---|---|---|---|---|---|---|---|---|"
for target in $targets; do
  dir=$work/$target
  "$build/bitgptc" "$model" --target "$target" --sram "$sram" -o "$dir" --report-json "$work/plan.json" -q
  make -s -C "$dir" > /dev/null
  window=$(sed -n 's/.*"window": \([0-9]*\).*/\1/p' "$work/plan.json" | head -n 1)
  weights=$(sed -n 's/.*"matmul_weights": \([0-9]*\).*/\1/p' "$work/plan.json" | head -n 1)
  n1=$((window + 8)) n2=$((window + 40))
  c1=$(count "$dir" $n1)
  c2=$(count "$dir" $n2)
  flash=$(sed -n 's/^flash-bytes: //p' "$work/out.txt")
  peak=$(sed -n 's/^sram-peak-bytes: //p' "$work/out.txt")
  per_token=$(( (c2 - c1) / (n2 - n1) ))
  per_weight=$(awk -v t="$per_token" -v w="$weights" 'BEGIN { printf "%.2f", t / w }')
  echo "| $(basename "$(dirname "$model")") | $target | portable | 2-bit | $window | $flash | $peak | $per_token | $per_weight |"
done
