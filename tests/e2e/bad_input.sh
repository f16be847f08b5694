#!/usr/bin/env bash
# The command line on bad input: a clear message naming the file, a non-zero exit, and
# no output directory or report left behind.
set -uo pipefail
build=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0
"$build/tests/make_test_model" --out good/model.json --d 16 --layers 1 --heads 2 --kv-heads 1 --ff 24 || exit 1

# expect_error NAME PATTERN -- ARGS...: bitgptc ARGS must fail, print PATTERN, leave nothing
expect_error() {
  local name=$1 pattern=$2
  shift 3
  rm -rf out plan.json
  local err status
  err=$("$build/bitgptc" "$@" -o out --report-json plan.json 2>&1 >/dev/null)
  status=$?
  if [[ $status -eq 0 ]]; then echo "FAIL $name: exit 0"; fails=$((fails + 1)); return; fi
  if ! grep -Eq -- "$pattern" <<<"$err"; then echo "FAIL $name: message '$err' lacks /$pattern/"; fails=$((fails + 1)); return; fi
  if [[ -e out || -e plan.json ]] || compgen -G ".out.bitgptc-tmp-*" > /dev/null; then echo "FAIL $name: left output behind"; fails=$((fails + 1)); return; fi
  echo "ok   $name: $err"
}

cp -r good trunc && truncate -s -10 trunc/model.weights.bin
cp -r good badhash && printf '\x01' | dd of=badhash/model.weights.bin bs=1 seek=5 conv=notrunc status=none
mkdir -p nojson && echo '{"format": "bitgptc-model", "version": 1' > nojson/model.json
cp -r good huge && sed -i 's/"d_model": 16/"d_model": 1099511627776/' huge/model.json
cp -r good neg && sed -i 's/"n_layers": 1/"n_layers": -1/' neg/model.json
cp -r good dtype && sed -i '0,/"dtype": "ternary"/s//"dtype": "ternary3"/' dtype/model.json

expect_error missing-model 'nothing/model.json.*not found' -- nothing/model.json
expect_error truncated 'model.weights.bin.*truncated' -- trunc/model.json
expect_error bad-hash 'FNV-1a 64.*corrupt' -- badhash/model.json
expect_error bad-json 'byte offset [0-9]+.*not valid JSON' -- nojson/model.json
expect_error absurd-dim 'architecture.d_model.*out of range' -- huge/model.json
expect_error negative 'architecture.n_layers.*-1 is out of range' -- neg/model.json
expect_error unknown-dtype 'dtype.*"ternary3" is not one of' -- dtype/model.json
expect_error tiny-budget 'does not fit.*What would fit' -- good/model.json --target cortex-m4 --sram 700
expect_error bad-size '--sram.*not a size' -- good/model.json --sram 8Q
expect_error bad-target 'unknown target' -- good/model.json --target pdp11
expect_error bad-kv-bits '--kv-bits.*not 8 or 4' -- good/model.json --kv-bits 3
expect_error bad-pass 'unknown pass' -- good/model.json --disable-pass fuse-all
expect_error no-dsp '--kernel smlad: target cortex-m3 has no DSP' -- good/model.json --target cortex-m3 --kernel smlad
expect_error no-helium '--kernel mve: target cortex-m4 has no Helium' -- good/model.json --target cortex-m4 --kernel mve
expect_error lut-flash '--kernel lut4: with its 16-bit table indices.*over the --flash budget' -- good/model.json --target cortex-m3 --kernel lut4 --flash 30K
expect_error lut-chunk-negative '--lut-chunk: -3 is not a positive number of groups' -- good/model.json --target cortex-m3 --kernel lut4 --lut-chunk -3
expect_error lut-chunk-without-lut4 '--lut-chunk applies to --kernel lut4' -- good/model.json --target cortex-m3 --lut-chunk 4
expect_error bad-prompt-bytes '--max-prompt-bytes: 0 is outside' -- good/model.json --max-prompt-bytes 0
mkdir -p adir
# expect_error passes its own -o and --report-json: these call bitgptc directly
check_no_output() {  # NAME PATTERN ARGS...: fails with PATTERN, and no folder new/ appears
  local name=$1 pattern=$2 err
  shift 2
  rm -rf new
  if err=$("$build/bitgptc" "$@" 2>&1 >/dev/null); then echo "FAIL $name: exit 0"; fails=$((fails + 1)); return; fi
  if ! grep -Eq -- "$pattern" <<<"$err"; then echo "FAIL $name: message '$err' lacks /$pattern/"; fails=$((fails + 1)); return; fi
  if [[ -e new ]] || compgen -G ".new.bitgptc-tmp-*" > /dev/null; then echo "FAIL $name: left output behind"; fails=$((fails + 1)); return; fi
  echo "ok   $name: $err"
}
check_no_output report-folder-missing 'nodir/plan.json: the folder nodir does not exist' good/model.json -o new --report-json nodir/plan.json
check_no_output report-into-folder 'adir: is a directory' good/model.json -o new --report-json adir
[[ -z $(ls -A adir) ]] || { echo "FAIL report-into-folder: wrote into adir"; fails=$((fails + 1)); }
check_no_output empty-output-path '-o: the output folder is an empty path' good/model.json -o ""

# A run with an unencodable prompt fails cleanly too.
"$build/tests/make_test_model" --out small/model.json --d 16 --layers 1 --heads 2 --kv-heads 1 --ff 24 --vocab 65 --tokenizer table || exit 1
if err=$("$build/bitgptc" run small/model.json --prompt "the QUIZ" -n 4 2>&1); then
  echo "FAIL unencodable prompt: exit 0"; fails=$((fails + 1))
elif grep -q "byte offset 4" <<<"$err"; then echo "ok   unencodable-prompt: $err"
else echo "FAIL unencodable prompt: $err"; fails=$((fails + 1)); fi

# An existing folder that bitgptc did not write is never replaced.
mkdir -p mine && echo keep > mine/notes.txt
if "$build/bitgptc" good/model.json -o mine -q 2>/dev/null || [[ ! -f mine/notes.txt ]]; then
  echo "FAIL: replaced a folder bitgptc did not write"; fails=$((fails + 1))
else echo "ok   foreign-folder-kept"; fi

# Output folders: a trailing slash, recompiling, and "-o ." from inside keep what the user
# added; unchanged files keep their time stamps (a build system rebuilds nothing).
rm -rf out && "$build/bitgptc" good/model.json -o out/ -q || { echo "FAIL trailing slash: exit $?"; fails=$((fails + 1)); }
echo keep > out/notes.txt && touch -d '2001-01-01' out/test_model.h
"$build/bitgptc" good/model.json -o out/ -q && (cd out && "$build/bitgptc" ../good/model.json -o . -q)
if [[ ! -f out/notes.txt || ! -f out/test_model.cpp ]]; then echo "FAIL recompile: lost a file"; fails=$((fails + 1));
elif [[ $(stat -c %Y out/test_model.h) != $(date -d '2001-01-01' +%s) ]]; then echo "FAIL recompile: rewrote an unchanged file"; fails=$((fails + 1));
else echo "ok   recompile-keeps-user-files-and-unchanged-files"; fi
# Reports to standard output or a device are written into it, never renamed over it.
if ! "$build/bitgptc" good/model.json --report-json - | grep -q '"schema": "bitgptc-report"'; then echo "FAIL report to -"; fails=$((fails + 1)); fi
if ! "$build/bitgptc" good/model.json -q --report-json /dev/stdout | grep -q '"schema"' || [[ ! -L /dev/stdout ]]; then
  echo "FAIL report to /dev/stdout"; fails=$((fails + 1))
else echo "ok   report-to-stdout"; fi
[[ -e ./- ]] && { echo "FAIL: a file named - was created"; fails=$((fails + 1)); }

[[ $fails -eq 0 ]] && echo "all bad-input checks passed"
exit $fails
