#!/usr/bin/env bash
# --target x86-64-v3: the AVX2 row kernels (runtime/bitgpt_avx2.h) compute the
# interpreter's integers. Two random models (ternary with an untied int8 classifier, row
# lengths 80 and 200 that leave tails past the 32-column steps; and a binary one, whose
# rows take the plain loop), each through the C++ backend built by its own emitted
# CMakeLists (which passes -march=x86-64-v3) and through the LLVM object; every demo's
# text and checksum equal `bitgptc run --target x86-64-v3`. Skips (77) on a machine
# without AVX2, where the programs could not run.
#   x86_64_v3.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
[[ $(uname -m) == x86_64 ]] && grep -qw avx2 /proc/cpuinfo || { echo "skip: this machine has no AVX2"; exit 77; }
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$build/tests/make_test_model" --out tern/model.json --name tern --d 80 --layers 2 --heads 4 --kv-heads 2 --ff 200 --vocab 300 \
  --untied --dtype ternary --sub-norm > /dev/null
# rows of 128 and 384 columns: every ternary matrix in 128-weight blocks (BG_W_TERNARY_P128)
"$build/tests/make_test_model" --out planes/model.json --name planes --d 128 --layers 2 --heads 4 --kv-heads 1 --ff 384 --vocab 300 \
  --dtype ternary --sub-norm > /dev/null
"$build/tests/make_test_model" --out bin/model.json --name bin --d 64 --layers 1 --heads 2 --kv-heads 1 --ff 96 --dtype binary > /dev/null
for m in tern planes bin; do
  "$build/bitgptc" run $m/model.json --target x86-64-v3 --kernel portable --prompt "The" -n 40 > $m-run.txt
  "$build/bitgptc" $m/model.json --target x86-64-v3 --kernel portable -o $m-cpp -q
  grep -q -- '-march=x86-64-v3' $m-cpp/CMakeLists.txt || { echo "FAIL: $m: the emitted CMakeLists does not build for x86-64-v3"; exit 1; }
  cmake -S $m-cpp -B $m-cpp/build -DCMAKE_BUILD_TYPE=Release > /dev/null && cmake --build $m-cpp/build > /dev/null
  "$m-cpp/build/${m}_demo" --prompt "The" -n 40 > $m-cpp.txt
  "$build/bitgptc" $m/model.json --target x86-64-v3 --kernel portable --emit obj -o $m-obj -q
  ${CXX:-c++} -std=c++17 -O2 $m-obj/demo/${m}_demo.cpp $m-obj/$m.o -I$m-obj -o $m-obj.bin
  ./$m-obj.bin --prompt "The" -n 40 > $m-obj.txt
  for b in cpp obj; do
    cmp -s $m-run.txt $m-$b.txt || { echo "FAIL: $m: the $b build differs from the interpreter"; diff $m-run.txt $m-$b.txt | head; exit 1; }
  done
  echo "ok $m: C++ and object builds for x86-64-v3 equal the interpreter: $(tail -n 1 $m-run.txt)"
done
# and the kernels are the AVX2 ones: the object holds AVX2 instructions (ymm registers)
(( $(objdump -d tern-obj/tern.o | grep -c ymm) > 0 )) || { echo "FAIL: no AVX2 instruction in the x86-64-v3 object"; exit 1; }
echo "ok: the object's row kernels use AVX2"
grep -q "BG_W_TERNARY_P128" planes-cpp/planes_weights.cpp || { echo "FAIL: the 128-column model's matrices are not in 128-weight blocks"; exit 1; }
"$build/bitgptc" run planes/model.json --target host --kernel portable --prompt "The" -n 40 > planes-host.txt
cmp -s planes-host.txt planes-run.txt || { echo "FAIL: the interpreter on 128-weight blocks differs from it on plain 2-bit rows"; exit 1; }
echo "ok: whole 128-weight rows are packed in blocks, and compute what plain 2-bit rows do"
