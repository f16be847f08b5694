#!/usr/bin/env bash
# Inputs that once crashed bitgptc, hit undefined behaviour or produced a project that did
# not build (../shared/data/reproducers/README.md): each now gives a clear error and exit 1,
# or runs. The files belong to the team's shared data, not to the repository: without
# ../shared the script says so and skips.
set -uo pipefail
build=$1 work=$2
data=$(cd "$(dirname "$0")/../.." && pwd)/../shared/data/reproducers
if [[ ! -d $data ]]; then
  echo "skipped: $data is absent (the team's shared data; not on a user's machine)"
  exit 0
fi
data=$(cd "$data" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0

expect_error() {  # NAME PATTERN ARGS...
  local name=$1 pattern=$2 err status
  shift 2
  err=$("$build/bitgptc" "$@" 2>&1 >/dev/null)
  status=$?
  if [[ $status -ne 1 ]]; then echo "FAIL $name: exit $status: $err"; fails=$((fails + 1));
  elif ! grep -Eq -- "$pattern" <<<"$err"; then echo "FAIL $name: '$err' lacks /$pattern/"; fails=$((fails + 1));
  else echo "ok   $name: $err"; fi
}
expect_run() {  # NAME ARGS...: exits 0 and prints a checksum
  local name=$1 out
  shift
  if out=$("$build/bitgptc" "$@" 2>&1) && grep -q '^logits-checksum: ' <<<"$out"; then echo "ok   $name"
  else echo "FAIL $name: $out"; fails=$((fails + 1)); fi
}

expect_error q8-group-over-tensor 'group_size 1000 does not divide' run "$data/llama2c_v2_group1000_over_tensor.bin" --tokenizer "$data/tokenizer_vocab16.bin" -n 1
expect_error q8-group-not-dividing 'group_size 48 does not divide' run "$data/llama2c_v2_group48_not_dividing.bin" --tokenizer "$data/tokenizer_vocab16.bin" -n 1
expect_error ternary-2x1 'not a multiple of 4' run "$data/bitllama2c_2x1_rows_cols_not_multiple_of_4.bin" --tokenizer "$data/tokenizer_vocab4.bin" -n 1
expect_error ternary-6x3 'not a multiple of 4' run "$data/bitllama2c_6x3_rows_cols_not_multiple_of_4.bin" --tokenizer "$data/tokenizer_vocab4.bin" -n 1
expect_error norm-gain-3e38 'final_norm.weight\[0\].*outside the range of norm parameters' run "$data/f32_norm_3e38/model.json" -n 1
expect_error norm-gain-1e10 'outside the range of norm parameters' eval "$data/f32_norm_1e10/model.json" --text "$data/README.md"
expect_error name-config "model name 'config'.*--name" "$data/name_config/model.json" --target cortex-m4 -o out -q
[[ -e out ]] && { echo "FAIL name-config: wrote out/"; fails=$((fails + 1)); }
expect_run name-config-renamed run "$data/name_config/model.json" --name tiny -n 4
# Huge weight scales: scores far apart saturate instead of overflowing in the softmax; the
# emitted code must still agree with the interpreter (compared on the host here).
expect_run scale-1e20 run "$data/scale_1e20/model.json" -n 8
if "$build/bitgptc" "$data/scale_1e20/model.json" -o big -q && c++ -std=c++17 -O1 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -Ibig \
      big/*.cpp big/demo/*.cpp -o big/demo_program 2>&1 && [[ $(big/demo_program -n 8) == $("$build/bitgptc" run "$data/scale_1e20/model.json" -n 8) ]]; then
  echo "ok   scale-1e20-emitted-equals-interpreter"
else echo "FAIL scale-1e20: the emitted code differs from the interpreter"; fails=$((fails + 1)); fi

[[ $fails -eq 0 ]] && echo "all reproducers handled"
exit $fails
