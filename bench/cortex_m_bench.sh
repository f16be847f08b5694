#!/usr/bin/env bash
# Executed instructions per generated token of a model's firmware under QEMU, counted
# exactly by the project's TCG plugin (bench/qemu_insn_count.c), with flash and the
# measured SRAM peak. Prints one Markdown table. Run from anywhere after building.
#
#   bash bench/cortex_m_bench.sh [MODEL.json] [SRAM] [TARGET]
#
# Rows: the naive portable kernel (decode each 2-bit code, then multiply: the baseline),
# the portable kernel (plain C), the SMLAD kernel (Armv7E-M DSP targets only), the Helium
# kernel (MVE targets only), the lookup-table kernel pinned (with the window it leaves),
# the portable kernel on base-3 packing (1.6 bits per weight), and what the compiler
# chooses by itself for the budget.
# Instructions per token come from two runs that differ only in the number of generated
# tokens (N1 and N2, both past the attention window, so every token attends to a full
# window): (count(N2) - count(N1)) / (N2 - N1). Start-up, prompt and printing cancel.
# Instructions per weight divide by the weights of every matrix product of one token
# (the classifier included).
# BITGPT_ARGS="--kv-bits 4" passes more options to bitgptc for every configuration.
# EMITS="cpp obj" runs each configuration through both backends: the C++ sources built by
# arm-none-eabi-gcc -O2, and the object LLVM generates (--emit obj; obj-size: with
# --optimize size); default cpp. The naive
# kernel is a C++ build flag: C++ only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/examples/austen/model.json}
sram=${2:-8K}
target=${3:-cortex-m4}
build=$root/build
plugin=$build/bench/libqemu_insn_count.so
[[ -x $build/bitgptc && -f $plugin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

json() { sed -n "s/.*\"$2\": \"\\{0,1\\}\\([^\",]*\\)\"\\{0,1\\},\\{0,1\\}$/\\1/p" "$1" | head -n 1; }

count() {  # count DIR TOKENS EXTRA_CFLAGS -> executed instructions
  make -s -C "$1/firmware" run TOKENS="$2" SEED=1 EXTRA_CFLAGS="$3" PLUGIN="$plugin,out=$work/count.txt" > "$work/out.txt"
  sed -n 's/^instructions: //p' "$work/count.txt"
}

echo "| model | target | SRAM budget | kernel | backend | window | KV bits | flash bytes | SRAM peak | instructions/token | instructions/weight/token |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for emit in ${EMITS:-cpp}; do
for config in ${CONFIGS:-naive portable smlad mve lut4 base3 auto}; do
  [[ $emit != cpp && $config == naive ]] && continue
  dir=$work/$emit-$config
  backend="GCC -O2 (C++)"
  emit_args=(--emit "${emit%-size}")
  [[ $emit == obj ]] && backend="LLVM object"
  [[ $emit == obj-size ]] && backend="LLVM object, --optimize size" emit_args+=(--optimize size)
  kernel=$config extra="" packing=auto
  [[ $config == naive ]] && kernel=portable extra=-DBITGPT_KERNEL_NAIVE
  [[ $config == base3 ]] && kernel=portable packing=base3
  # shellcheck disable=SC2086  # BITGPT_ARGS: more bitgptc options, e.g. "--kv-bits 4"
  if ! "$build/bitgptc" "$model" --target "$target" --sram "$sram" --kernel "$kernel" --packing "$packing" ${BITGPT_ARGS:-} "${emit_args[@]}" -o "$dir" --report-json "$work/plan.json" -q 2> "$work/err.txt"; then
    [[ $config == smlad || $config == mve || $config == lut4 ]] && continue  # no DSP / no Helium / no table configuration fits
    cat "$work/err.txt" >&2; exit 1
  fi
  make -s -C "$dir/firmware" EXTRA_CFLAGS="$extra" > /dev/null
  window=$(json "$work/plan.json" window)
  bits=$(json "$work/plan.json" bits)
  weights=$(json "$work/plan.json" matmul_weights)
  name=$(json "$work/plan.json" name | head -n 1)
  chosen=$(sed -n '/"kernel"/,/}/s/.*"name": "\([^"]*\)".*/\1/p' "$work/plan.json" | head -n 1)
  chunk=$(json "$work/plan.json" lut_chunk_groups)
  dots=$(json "$work/plan.json" dot_products)
  [[ $chosen == lut4 && $config == lut4 ]] && chosen="lut4 ($chunk groups/chunk)"
  if [[ $chosen == mixed || ( $chosen == lut4 && $config == auto ) ]]; then
    lookups=$(grep -c '"kernel": "lut4"' "$work/plan.json" || true)
    products=$(grep -c '"row_kernel_instructions"' "$work/plan.json" || true)
    chosen="$chosen (lut4 on $lookups of $((products - 1)) products)"
  fi
  [[ $config == naive ]] && chosen="naive portable"
  [[ $config == base3 ]] && chosen="portable, base-3 packing"
  [[ $config == auto ]] && chosen="auto: $chosen"
  n1=$((window + 8)) n2=$((window + 40))
  c1=$(count "$dir" $n1 "$extra")
  c2=$(count "$dir" $n2 "$extra")
  flash=$(sed -n 's/^flash-bytes: //p' "$work/out.txt")
  peak=$(sed -n 's/^sram-peak-bytes: //p' "$work/out.txt")
  per_token=$(( (c2 - c1) / (n2 - n1) ))
  per_weight=$(awk -v t="$per_token" -v w="$weights" 'BEGIN { printf "%.2f", t / w }')
  echo "| $(basename "$(dirname "$model")") | $target | $sram | $chosen | $backend | $window | $bits | $flash | $peak | $per_token | $per_weight |"
done
done
