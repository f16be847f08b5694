#!/usr/bin/env bash
# bitgptc's GGUF import and export checked against llama.cpp itself: the prebuilt libraries
# and headers of the npm package node-llama-cpp@3.21.1 (installed here into the build's
# cache; nothing of it is in the repository), driven by tests/tools/llama_cpp_oracle.c.
#  1. stories260K (llama2.c float) -> bitgptc convert -> GGUF F32 -> llama.cpp, teacher-forced
#     on llama2.c's own greedy tokens: top-1 agreement >= 0.99 (our writer, their reader).
#  2. that GGUF quantised by llama.cpp (llama_model_quantize, Q8_0) -> bitgptc: top-1
#     agreement with llama.cpp's run of the same file >= 0.97 (their writer, our reader).
#  3. the shipped example (ternary, sub-norms: GGUF architecture bitnet) -> GGUF F32, and
#     that file quantised by llama.cpp to TQ2_0 and TQ1_0 (its 128- and 384-column rows are
#     not whole 256-element TQ blocks: llama.cpp falls back to Q4_0 for every matrix) ->
#     llama.cpp and bitgptc on the first 20,000 bytes of the held-out Austen text, same
#     protocol: top-1 agreement >= 0.95 and the losses within 1 % (float vs integer).
#  4. a binary model (random weights, 128-column rows) -> GGUF F32, and llama.cpp's Q1_0
#     quantisation of it (one bit per weight) -> llama.cpp and bitgptc on the same ids:
#     top-1 agreement >= 0.95 on both files.
#  5. a ternary model with 256-column rows quantised by llama.cpp to TQ2_0 (its token
#     embedding becomes Q6_K) -> llama.cpp and bitgptc: top-1 agreement >= 0.95.
# Skips (77), saying why, without ../shared or when npm cannot install the package.
#   llama_cpp_oracle.sh BUILD_DIR SOURCE_DIR SHARED_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 shared=$3 work=$4
ckpt=$shared/data/checkpoints/stories260K
[[ -f $ckpt/stories260K.bin ]] || { echo "skip: $ckpt is absent (../shared)"; exit 77; }
source "$src/tests/tools/llama_cpp_setup.sh"
llama_cpp_setup "$build" || exit 77
rm -rf "$work" && mkdir -p "$work" && cd "$work"
llama_cpp_build_oracle "$src" oracle
ids=$ckpt/greedy_256_token_ids.txt

# agreement A B: the fraction of positions where two prediction lists agree
agreement() { paste -d' ' "$1" "$2" | awk '{ n++; if ($1 == $2) a++ } END { printf "%.4f", a / n }'; }
at_least() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x >= y) }'; }

"$build/bitgptc" convert "$ckpt/stories260K.bin" --tokenizer "$ckpt/tok512.bin" --to gguf s260.gguf
./oracle predict "$bins" s260.gguf "$ids" 2> oracle.log > llama_f32.txt
tr -s ' \n' '\n' < "$ids" | grep . | tail -n +2 > llama2c.txt
a=$(agreement llama_f32.txt llama2c.txt)
at_least "$a" 0.99 || { echo "FAIL: llama.cpp on bitgptc's GGUF agrees with llama2.c on $a of the tokens (< 0.99)"; exit 1; }
echo "ok our writer, their reader: llama.cpp on the converted GGUF F32 agrees with llama2.c's greedy tokens: $a"

./oracle quantize "$bins" s260.gguf s260-q8_0.gguf q8_0 2>> oracle.log
./oracle predict "$bins" s260-q8_0.gguf "$ids" 2>> oracle.log > llama_q8.txt
b=$("$build/bitgptc" eval s260-q8_0.gguf --reference-tokens "$ids" --predictions llama_q8.txt | sed -n 's/^top1-agreement: //p')
at_least "$b" 0.97 || { echo "FAIL: bitgptc on llama.cpp's Q8_0 GGUF agrees with llama.cpp's own run on $b (< 0.97)"; exit 1; }
echo "ok their writer, our reader: bitgptc on llama.cpp's Q8_0 file agrees with llama.cpp's run of it: $b"

# and back: the GGUF read by bitgptc computes what the llama2.c checkpoint does, bit for bit
x=$("$build/bitgptc" run s260.gguf --prompt "Once upon" -n 24 | tail -n 1)
y=$("$build/bitgptc" run "$ckpt/stories260K.bin" --tokenizer "$ckpt/tok512.bin" --prompt "Once upon" -n 24 | tail -n 1)
[[ $x == "$y" ]] || { echo "FAIL: the GGUF round trip changed the model: $x vs $y"; exit 1; }
echo "ok round trip llama2.c -> GGUF -> bitgptc: $x"

# 3. the shipped example, float llama.cpp against the integer pipeline
corpus=$shared/data/corpora/austen.txt
size=$(stat -c %s "$corpus")
tail -c $((size - size * 95 / 100)) "$corpus" > val-all.txt
# 20,000 bytes of it (and 3,000 of README.md for the random models below); 1,000 and 500
# in the sanitizer tree (scripts/sanitize.sh), whose point is our reader on their files
# under ASan: its instrumented evaluations and llama.cpp's own runs were this test's whole
# time there (65 s at 5,000 and 3,000, 28 s of CPU at 2,000 and 1,000), and the suite has
# 15 minutes
val_bytes=20000 text_bytes=3000
[[ ${BITGPT_E2E_SANITIZE:-0} == 1 ]] && val_bytes=1000 text_bytes=500
head -c "$val_bytes" val-all.txt > val.txt
"$build/bitgptc" convert "$src/examples/austen/model.json" --to gguf austen-f32.gguf
"$build/bitgptc" eval "$src/examples/austen/model.json" --text val.txt --dump-tokens val-ids.txt > /dev/null
./oracle quantize "$bins" austen-f32.gguf austen-tq2_0.gguf tq2_0 2>> oracle.log
./oracle quantize "$bins" austen-f32.gguf austen-tq1_0.gguf tq1_0 2>> oracle.log
for q in f32 tq2_0 tq1_0; do
  ./oracle score "$bins" austen-$q.gguf val-ids.txt 256 > llama-$q.txt 2> score-$q.log
  theirs=$(awk '/^nats/ { printf "%.6f", $2 / $4 }' score-$q.log)
  "$build/bitgptc" eval austen-$q.gguf --text val.txt --predictions llama-$q.txt > eval-$q.txt
  ours=$(sed -n 's/^loss-nats-per-token: //p' eval-$q.txt)
  top1=$(sed -n 's/^top1-agreement: //p' eval-$q.txt)
  diff=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { d = (a - b) / b * 100; printf "%+.3f", d }')
  echo "shipped example, $q: llama.cpp $theirs nats/token, bitgptc $ours ($diff %), top-1 agreement $top1"
  at_least "$top1" 0.95 || { echo "FAIL: $q: top-1 agreement $top1 < 0.95"; exit 1; }
  awk -v d="$diff" 'BEGIN { exit !(d <= 1 && d >= -1) }' || { echo "FAIL: $q: the losses differ by $diff %"; exit 1; }
done
echo "ok the shipped example through GGUF (F32, and llama.cpp's TQ2_0/TQ1_0 requests) agrees with llama.cpp"

# 4. binary weights, and llama.cpp's Q1_0
"$build/tests/make_test_model" --out binary/model.json --name binmodel --dtype binary --d 128 --layers 2 --heads 4 --kv-heads 2 --ff 256 \
  --vocab 320 --tokenizer bpe --max-seq 128 > /dev/null
"$build/bitgptc" convert binary/model.json --to gguf binary-f32.gguf
./oracle quantize "$bins" binary-f32.gguf binary-q1_0.gguf q1_0 2>> oracle.log
head -c "$text_bytes" "$src/README.md" > text.txt
"$build/bitgptc" eval binary/model.json --text text.txt --dump-tokens binary-ids.txt > /dev/null
for q in f32 q1_0; do
  ./oracle score "$bins" binary-$q.gguf binary-ids.txt 128 > binary-llama-$q.txt 2>> oracle.log
  top1=$("$build/bitgptc" eval binary-$q.gguf --text text.txt --predictions binary-llama-$q.txt | sed -n 's/^top1-agreement: //p')
  echo "binary model, $q: top-1 agreement with llama.cpp $top1"
  at_least "$top1" 0.95 || { echo "FAIL: binary $q: top-1 agreement $top1 < 0.95"; exit 1; }
done
echo "ok binary weights through GGUF F32 and llama.cpp's Q1_0 agree with llama.cpp"

# 5. a ternary model whose rows fill TQ blocks (256 columns): llama.cpp's own TQ2_0 file
#    (ternary matrices in TQ2_0, the token embedding in Q6_K) read by bitgptc
"$build/tests/make_test_model" --out tq/model.json --name tqmodel --d 256 --layers 1 --heads 4 --kv-heads 2 --ff 512 \
  --vocab 320 --tokenizer bpe --max-seq 128 --sub-norm > /dev/null
"$build/bitgptc" convert tq/model.json --to gguf tq-f32.gguf
./oracle quantize "$bins" tq-f32.gguf tq-tq2_0.gguf tq2_0 2>> oracle.log
"$build/bitgptc" eval tq/model.json --text text.txt --dump-tokens tq-ids.txt > /dev/null
./oracle score "$bins" tq-tq2_0.gguf tq-ids.txt 128 > tq-llama.txt 2>> oracle.log
top1=$("$build/bitgptc" eval tq-tq2_0.gguf --text text.txt --predictions tq-llama.txt | sed -n 's/^top1-agreement: //p')
echo "ternary model, llama.cpp's TQ2_0 + Q6_K file: top-1 agreement with llama.cpp $top1"
at_least "$top1" 0.95 || { echo "FAIL: TQ2_0/Q6_K: top-1 agreement $top1 < 0.95"; exit 1; }
echo "ok llama.cpp's TQ2_0 file (Q6_K embedding) agrees with llama.cpp"
