#!/usr/bin/env bash
# The command line on bad input: a clear message naming the file, a non-zero exit, and
# no output directory or report left behind.
set -uo pipefail
build=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0
"$build/tests/make_test_model" --out good/model.json --d 16 --layers 1 --heads 2 --kv-heads 1 --ff 24 || exit 1
"$build/tests/make_test_model" --out small/model.json --d 16 --layers 1 --heads 2 --kv-heads 1 --ff 24 --vocab 65 --tokenizer table || exit 1

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
expect_error bad-size '--sram.*unit not recognized' -- good/model.json --sram 8Q
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
expect_error window-zero '--window: 0 is outside' -- good/model.json --window 0
expect_error window-overflow "--window: '99999999999999999999' is too large" -- good/model.json --window 99999999999999999999
expect_error kv-bits-zero '--kv-bits: 0 is not 8 or 4' -- good/model.json --kv-bits 0
expect_error lut-chunk-zero '--lut-chunk: 0 is not a positive number' -- good/model.json --kernel lut4 --lut-chunk 0
expect_error prompt-bytes-negative '--max-prompt-bytes: -1 is outside' -- good/model.json --max-prompt-bytes -1
expect_error sram-empty '--sram: Input is empty' -- good/model.json --sram ''
expect_error sram-overflow '--sram: Value 99999999999999999999 not in range' -- good/model.json --sram 99999999999999999999
# The object backend's options.
expect_error unknown-emit "--emit: 'exe' is not one of asm, cpp, llvm, obj" -- good/model.json --emit exe
expect_error section-missing-name '--section .arena=.: the section name for arena is missing' -- good/model.json --emit obj --section arena=
expect_error section-unknown-part "--section 'heap=.x': expected PART=NAME" -- good/model.json --emit obj --section heap=.x
expect_error section-bad-name "'.a b' is not a section name" -- good/model.json --emit obj --section 'kv=.a b'
expect_error section-with-cpp '--section: only for the object backend' -- good/model.json --section arena=.x
expect_error optimize-with-cpp '--optimize: only for the object backend' -- good/model.json --optimize size
# GGUF: a file of this compiler's writing, then broken.
"$build/tests/make_test_model" --out bpe/model.json --d 16 --layers 1 --heads 2 --kv-heads 1 --ff 24 --tokenizer bpe --vocab 320 > /dev/null || exit 1
"$build/bitgptc" convert bpe/model.json --to gguf good.gguf || { echo "FAIL convert"; fails=$((fails + 1)); }
head -c 1000 good.gguf > truncated.gguf
expect_error gguf-truncated 'truncated.gguf: byte offset [0-9]+: tokenizer.ggml.tokens: 320 elements cannot fit in the file' -- truncated.gguf
head -c -100 good.gguf > short-data.gguf
expect_error gguf-short-data 'short-data.gguf: byte offset [0-9]+: tensor .*run past the end of the file' -- short-data.gguf
cp good.gguf version.gguf && printf '\x07' | dd of=version.gguf bs=1 seek=4 conv=notrunc status=none
expect_error gguf-version 'version.gguf: byte offset 4: GGUF version 7 is not supported' -- version.gguf
sed 's/general.architecture\(.\{12\}\)llama/general.architecture\1gpt2x/' good.gguf > arch.gguf
expect_error gguf-arch 'arch.gguf: general.architecture: "gpt2x" is not supported' -- arch.gguf
sed 's/tokenizer.ggml.model\(.\{12\}\)llama/tokenizer.ggml.model\1gpt2x/' good.gguf > tok.gguf
expect_error gguf-tokenizer 'tok.gguf: tokenizer.ggml.model: "gpt2x" is not supported' -- tok.gguf
expect_error gguf-with-tokenizer '--tokenizer is for llama2.c checkpoints' -- good.gguf --tokenizer x.bin
# --calibration: a missing or empty text, a bound that is negative or not a number, a bound
# without a text
echo "It is a truth universally acknowledged" > cal.txt && : > empty-cal.txt
expect_error calibration-missing 'nothere.txt: calibration text not found' -- good/model.json --calibration nothere.txt
expect_error calibration-empty '--calibration empty-cal.txt: the calibration text is empty' -- good/model.json --calibration empty-cal.txt
expect_error loss-bound-negative "--max-loss-increase: expected a percentage >= 0 .*got '-1'" -- good/model.json --calibration cal.txt --max-loss-increase -1
expect_error loss-bound-text "--max-loss-increase: expected a percentage >= 0 .*got 'abc'" -- good/model.json --calibration cal.txt --max-loss-increase abc
expect_error loss-bound-alone '--max-loss-increase: goes with --calibration' -- good/model.json --max-loss-increase 1
# Hugging Face folders (the reader's unit tests cover each field; these, the command line)
"$build/bitgptc" convert bpe/model.json --to hf goodhf > /dev/null || { echo "FAIL convert --to hf"; fails=$((fails + 1)); }
cp -r goodhf notok && rm notok/tokenizer.json
expect_error hf-no-tokenizer 'notok: tokenizer.json: missing' -- notok
cp -r goodhf noweights && rm noweights/model.safetensors
expect_error hf-no-weights 'noweights: no model.safetensors or model.safetensors.index.json' -- noweights
cp -r goodhf trunchf && truncate -s -7 trunchf/model.safetensors
expect_error hf-truncated 'trunchf/model.safetensors: tensor .*data_offsets: .* is not a byte range inside' -- trunchf/config.json
cp -r goodhf archhf && sed -i 's/BitNetForCausalLM/GPT2LMHeadModel/' archhf/config.json
expect_error hf-arch 'archhf/config.json: architectures: "GPT2LMHeadModel" is not supported' -- archhf
expect_error hf-with-tokenizer '--tokenizer is for llama2.c checkpoints; a Hugging Face folder' -- goodhf --tokenizer x.bin
mkdir -p userdir && echo keep > userdir/notes.txt
if err=$("$build/bitgptc" convert bpe/model.json --to hf userdir 2>&1); then echo "FAIL convert --to hf userdir: exit 0"; fails=$((fails + 1));
elif [[ $(cat userdir/notes.txt) != keep || -e userdir/config.json ]]; then echo "FAIL convert --to hf userdir: touched a folder bitgptc did not make"; fails=$((fails + 1));
else echo "ok   convert --to hf userdir: $err"; fi
# convert: a bad format, a folder as the output; nothing written
for args in "--to onnx x.onnx|--to: onnx not in" "--to gguf adir|adir: is a directory, not a file .convert's output." \
            "--to gguf nodir/x.gguf|nodir/x.gguf: the folder nodir does not exist"; do
  mkdir -p adir
  # shellcheck disable=SC2086
  if err=$("$build/bitgptc" convert bpe/model.json ${args%%|*} 2>&1); then echo "FAIL convert ${args%%|*}: exit 0"; fails=$((fails + 1));
  elif ! grep -Eq -- "${args#*|}" <<<"$err"; then echo "FAIL convert ${args%%|*}: '$err' lacks /${args#*|}/"; fails=$((fails + 1));
  elif [[ -e x.onnx ]] || compgen -G "adir/*" > /dev/null; then echo "FAIL convert ${args%%|*}: left output behind"; fails=$((fails + 1));
  else echo "ok   convert ${args%%|*}: $err"; fi
done
# More flash than the emulated board has: the library, a note, and no firmware project.
rm -rf big && if note=$("$build/bitgptc" good/model.json --target cortex-m0plus --flash 512K -o big -q 2>&1) && [[ -f big/test_model.cpp && ! -e big/firmware ]] &&
   grep -q "no QEMU firmware project.*--flash 524288 is more than the 262144 bytes of flash of QEMU's microbit" <<<"$note"; then echo "ok   m0-board-flash: $note"
else echo "FAIL m0-board-flash: $note"; fails=$((fails + 1)); fi
mkfifo pipe
expect_error fifo-model 'pipe: model file is not a regular file' -- pipe
cp -r good sidedir && rm sidedir/model.weights.bin && mkdir sidedir/model.weights.bin
expect_error sidecar-is-a-folder 'weights file is a directory' -- sidedir/model.json
echo '{"format": 1e400}' > big.json
expect_error json-number-overflow 'big.json: not valid JSON.*number overflow' -- big.json
printf '{\n  "format": "bitgptc-model",\n  "version": 1,,\n}' > comma.json
expect_error json-line-column 'comma.json: line 3 column 16 \(byte offset 47\): not valid JSON' -- comma.json
# run and eval: option values out of range, texts that are not texts
expect_failure() {  # NAME PATTERN ARGS...: bitgptc ARGS fails (within 20 s) and prints PATTERN
  local name=$1 pattern=$2 err
  shift 2
  if err=$(timeout 20 "$build/bitgptc" "$@" 2>&1 >/dev/null); then echo "FAIL $name: exit 0"; fails=$((fails + 1));
  elif ! grep -Eq -- "$pattern" <<<"$err"; then echo "FAIL $name: '$err' lacks /$pattern/"; fails=$((fails + 1));
  else echo "ok   $name: $(head -n 1 <<<"$err")"; fi
}
: > empty.txt
expect_failure tokens-negative '--tokens: Value -1 not in range 0 to 1000000' run good/model.json -n -1
expect_failure tokens-huge 'not in range 0 to 1000000' run good/model.json -n 9223372036854775807
expect_failure seed-negative "--seed: '-1' is not a whole number" run good/model.json --seed -1
expect_failure seed-overflow "--seed: '18446744073709551616' is too large" run good/model.json --seed 18446744073709551616
expect_failure eval-max-tokens-zero '--max-tokens: Value 0 not in range' eval good/model.json --text good/model.json --max-tokens 0
expect_failure eval-segment-negative '--segment: Value -1 not in range' eval good/model.json --text good/model.json --segment -1
expect_failure eval-empty-text 'empty.txt: the text is empty' eval good/model.json --text empty.txt
expect_failure eval-text-folder 'adir: text is a directory' eval good/model.json --text adir
expect_failure eval-unencodable 'text small/model.json: byte offset' eval small/model.json --text small/model.json
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
"$build/bitgptc" good/model.json -o out/ -q  # the same command: the same files
if [[ $(stat -c %Y out/test_model.h) != $(date -d '2001-01-01' +%s) ]]; then echo "FAIL recompile: rewrote an unchanged file"; fails=$((fails + 1)); fi
(cd out && "$build/bitgptc" ../good/model.json -o . -q)
if [[ ! -f out/notes.txt || ! -f out/test_model.cpp ]]; then echo "FAIL recompile: lost a file"; fails=$((fails + 1));
else echo "ok   recompile-keeps-user-files-and-unchanged-files"; fi
# Reports to standard output or a device are written into it, never renamed over it.
# (whole outputs into variables: grep -q would close the pipe early, failing the writer)
out=$("$build/bitgptc" good/model.json --report-json -) || true
if ! grep -q '"schema": "bitgptc-report"' <<<"$out"; then echo "FAIL report to -"; fails=$((fails + 1)); fi
out=$("$build/bitgptc" good/model.json -q --report-json /dev/stdout) || true
if ! grep -q '"schema"' <<<"$out" || [[ ! -L /dev/stdout ]]; then
  echo "FAIL report to /dev/stdout"; fails=$((fails + 1))
else echo "ok   report-to-stdout"; fi
[[ -e ./- ]] && { echo "FAIL: a file named - was created"; fails=$((fails + 1)); }

[[ $fails -eq 0 ]] && echo "all bad-input checks passed"
exit $fails
