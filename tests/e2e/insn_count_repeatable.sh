#!/usr/bin/env bash
# The instruction-counting plugin counts exactly: two runs of the same firmware with the
# same inputs count the same number of instructions, and more tokens count more.
set -euo pipefail
build=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$build/tests/make_test_model" --out model/model.json --name icount --d 32 --layers 2 --heads 4 --kv-heads 1 --ff 64
"$build/bitgptc" model/model.json --target cortex-m4 --sram 8K -o fw -q
make -s -C fw/firmware > /dev/null
plugin=$build/bench/libqemu_insn_count.so
run() { make -s -C fw/firmware run TOKENS="$1" SEED=3 PLUGIN="$plugin,out=$work/$2" > /dev/null; sed -n 's/^instructions: //p' "$work/$2"; }
a=$(run 20 a.txt) b=$(run 20 b.txt) c=$(run 30 c.txt)
echo "20 tokens: $a and $b instructions; 30 tokens: $c"
[[ -n $a && $a -gt 0 && $a == "$b" && $c -gt $a ]] || { echo "FAIL: counts are not exact and repeatable" >&2; exit 1; }
