#!/usr/bin/env bash
# --target x86-64-v3: the AVX2 kernels (runtime/bitgpt_avx2.h) compute the interpreter's
# integers; so does --target x86-64-avx512vnni (runtime/bitgpt_avx512.h) where this CPU
# has AVX-512 VNNI. Three random models (ternary with an untied int8 classifier, row
# lengths 80 and 200 that leave tails past the 32-column steps; one whose rows are whole
# 128-weight blocks, 3 of them in the FFN's: an odd one for the two-block AVX-512 step;
# and a binary one, whose rows take the plain loop), each through the C++ backend built by
# its own emitted CMakeLists (which passes the target's -march) and through the LLVM
# object; every demo's text and checksum equal `bitgptc run --target T`. Skips (77) on a
# machine without AVX2, where the programs could not run.
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
targets=(x86-64-v3)
# BITGPT_E2E_SANITIZE=1 (the sanitizer suite): the emitted programs are built with ASan and
# UBSan too, for x86-64-v3 alone (the AVX-512 kernels run sanitized in the unit tests) and
# through the C++ backend alone.
sanitize=() sanitize_cmake=()
if [[ ${BITGPT_E2E_SANITIZE:-0} == 1 ]]; then
  sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all)
  sanitize_cmake=(-DCMAKE_CXX_FLAGS="${sanitize[*]}" -DCMAKE_EXE_LINKER_FLAGS="${sanitize[*]}")
elif grep -qw avx512_vnni /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
  targets+=(x86-64-avx512vnni)
else
  echo "note: this CPU has no AVX-512 VNNI: x86-64-avx512vnni not run"
fi
for t in "${targets[@]}"; do
  for m in tern planes bin; do
    "$build/bitgptc" run $m/model.json --target $t --kernel portable --prompt "The" -n 40 > $m-$t-run.txt
    "$build/bitgptc" $m/model.json --target $t --kernel portable -o $m-$t-cpp -q
    march=$(grep -o -- '-march=[^ )]*' $m-$t-cpp/CMakeLists.txt | head -n 1)
    [[ -n $march ]] || { echo "FAIL: $m: the emitted CMakeLists for $t passes no -march"; exit 1; }
    cmake -S $m-$t-cpp -B $m-$t-cpp/build -DCMAKE_BUILD_TYPE=Release "${sanitize_cmake[@]}" > /dev/null && cmake --build $m-$t-cpp/build > /dev/null
    "$m-$t-cpp/build/${m}_demo" --prompt "The" -n 40 > $m-$t-cpp.txt
    # the object from LLVM, not in the sanitizer suite: LLVM's code is not instrumented
    # there, so only the demo around it would be, which the C++ build has run already
    backends=(cpp)
    if ((${#sanitize[@]} == 0)); then
      backends+=(obj)
      "$build/bitgptc" $m/model.json --target $t --kernel portable --emit obj -o $m-$t-obj -q
      ${CXX:-c++} -std=c++17 -O2 $m-$t-obj/demo/${m}_demo.cpp $m-$t-obj/$m.o -I$m-$t-obj -o $m-$t-obj.bin
      ./$m-$t-obj.bin --prompt "The" -n 40 > $m-$t-obj.txt
    fi
    for b in "${backends[@]}"; do
      cmp -s $m-$t-run.txt $m-$t-$b.txt || { echo "FAIL: $m: the $t $b build differs from the interpreter"; diff $m-$t-run.txt $m-$t-$b.txt | head; exit 1; }
    done
    echo "ok $m: ${backends[*]} builds for $t ($march) equal the interpreter: $(tail -n 1 $m-$t-run.txt)"
  done
done
cmp -s planes-x86-64-v3-run.txt tern-x86-64-v3-run.txt && { echo "FAIL: two models gave the same text"; exit 1; }
# and the kernels are the AVX2 ones: the object holds AVX2 instructions (ymm registers)
if [[ -f tern-x86-64-v3-obj/tern.o ]]; then
  (( $(objdump -d tern-x86-64-v3-obj/tern.o | grep -c ymm) > 0 )) || { echo "FAIL: no AVX2 instruction in the x86-64-v3 object"; exit 1; }
  echo "ok: the object's row kernels use AVX2"
fi
if [[ ${targets[1]:-} == x86-64-avx512vnni ]]; then
  (( $(objdump -d planes-x86-64-avx512vnni-obj/planes.o | grep -c 'vpdpbusd.*zmm') > 0 )) || { echo "FAIL: no VPDPBUSD on zmm in the x86-64-avx512vnni object"; exit 1; }
  echo "ok: the x86-64-avx512vnni object's block rows use AVX-512 VNNI"
fi
grep -q "BG_W_TERNARY_P128" planes-x86-64-v3-cpp/planes_weights.cpp || { echo "FAIL: the 128-column model's matrices are not in 128-weight blocks"; exit 1; }
"$build/bitgptc" run planes/model.json --target host --kernel portable --prompt "The" -n 40 > planes-host.txt
cmp -s planes-host.txt planes-x86-64-v3-run.txt || { echo "FAIL: the interpreter on 128-weight blocks differs from it on plain 2-bit rows"; exit 1; }
echo "ok: whole 128-weight rows are packed in blocks, and compute what plain 2-bit rows do"
