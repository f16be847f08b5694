#!/usr/bin/env bash
# What the SRAM budget costs in quality: the compiled integer pipeline's loss on a text
# at the model's full context and at the windows that budgets allow, 8- and 4-bit KV.
# Prints one Markdown table. The SRAM column is the plan's total with the portable kernel
# (the least SRAM for that window; the kernel never changes the loss).
#
#   bash bench/loss_vs_window.sh MODEL.json TEXT [MAX_TOKENS] [WINDOWS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=$1 text=$2 max=${3:-50000}
shift $(( $# >= 3 ? 3 : $# ))
windows=${*:-"8 16 24 32 48 64"}
bitgptc=$root/build/bitgptc
field() { sed -n "s/^$1: //p"; }

echo "| window | KV bits | least SRAM (cortex-m4 plan) | loss nats/token | bits/char |"
echo "|---|---|---|---|---|"
run() {  # run WINDOW BITS
  local out plan
  out=$("$bitgptc" eval "$model" --target cortex-m4 --sram 1M --kernel portable --window "$1" --kv-bits "$2" --text "$text" --max-tokens "$max")
  plan=$(sed -n 's/^plan: .*SRAM \([0-9]*\) of.*/\1/p' <<<"$out")
  echo "| $1 | $2 | $plan | $(field loss-nats-per-token <<<"$out") | $(field bits-per-char <<<"$out") |"
}
full=$(sed -n 's/.*"max_seq_len": \([0-9]*\).*/\1/p' "$model")
run "$full" 8
for w in $windows; do
  for bits in 8 4; do run "$w" "$bits"; done
done
