#!/usr/bin/env bash
# The emitted sources build warning-free with GCC at -O0, -Og, -Os and -O2 and with clang
# at -O0 and -O2, for the DSP (SMLAD, int16 quads of int8 rows), Helium, Armv7-M (int8 row pairs) and Armv6-M kernels: a user's Debug build
# must compile too. (The firmware runs at -O2 in the other e2e tests, and at -O0 in
# firmware_cmake.sh.)
#   compile_matrix.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$build/tests/make_test_model" --out m/model.json --d 48 --layers 2 --heads 4 --kv-heads 1 --ff 96 --sub-norm > /dev/null
"$build/tests/make_test_model" --out i8/model.json --dtype int8 --d 40 --layers 1 --heads 4 --kv-heads 2 --ff 72 > /dev/null
warn=(-std=c++17 -Wall -Wextra -Werror -fno-exceptions -fno-rtti)
failures=0
check() {  # LABEL COMPILER ARGS...
  local label=$1
  shift
  if out=$("$@" 2>&1); then echo "ok   $label"; else echo "FAIL $label"; echo "$out" | head -20; failures=$((failures + 1)); fi
}
for spec in "cortex-m4:thumbv7em-none-eabihf:-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16" \
            "cortex-m55:thumbv8.1m.main-none-eabihf:-mcpu=cortex-m55 -mthumb -mfloat-abi=hard" \
            "cortex-m3:thumbv7m-none-eabi:-mcpu=cortex-m3 -mthumb -mfloat-abi=soft" \
            "cortex-m0plus:thumbv6m-none-eabi:-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft"; do
  IFS=: read -r target triple cpu <<<"$spec"
  for model in m i8; do
    "$build/bitgptc" $model/model.json --target "$target" --sram 64K -o "out-$target-$model" -q
    dir=out-$target-$model
    name=$(basename "$dir"/*_weights.cpp _weights.cpp)
    for o in -O0 -Og -Os -O2; do
      # shellcheck disable=SC2086
      check "gcc $o $target $model" arm-none-eabi-g++ $cpu $o "${warn[@]}" -c "$dir/$name.cpp" "$dir/${name}_weights.cpp"
    done
    for o in -O0 -O2; do
      # shellcheck disable=SC2086
      check "clang $o $target $model" clang++-19 --target=$triple $cpu $o "${warn[@]}" -ffreestanding -nostdlibinc \
        -isystem /usr/lib/arm-none-eabi/include -c "$dir/$name.cpp" "$dir/${name}_weights.cpp"
    done
  done
done
# The lookup kernel's row-pair assembly (chunks of 4 and of 8 groups: the FFN's w1 and w3
# pairs and single matrices) at -O0, where the compilers have the fewest free registers:
# for indices in words (the default flash has room) and in both widths (a flash budget one
# byte short of the words' plan without the classifier's int16 quads, which give way
# first: the smallest matrix keeps halfwords; both kernels, by dtype).
total_bytes() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["flash"]["total_bytes"])' "$1"; }
for chunk in 4 8; do
  words=out-lut-$chunk-words
  "$build/bitgptc" m/model.json --target cortex-m4 --sram 64K --kernel lut4 --lut-chunk $chunk -o "$words" -q --report-json "$words.json"
  "$build/bitgptc" m/model.json --target cortex-m4 --sram 64K --kernel lut4 --lut-chunk $chunk --flash $(($(total_bytes "$words.json") - 1)) \
    -o "out-lut-$chunk-no-quads" -q --report-json "no-quads.json"
  short=$(($(total_bytes no-quads.json) - 1))
  "$build/bitgptc" m/model.json --target cortex-m4 --sram 64K --kernel lut4 --lut-chunk $chunk --flash "$short" -o "out-lut-$chunk-mixed" -q
  for dir in "$words" "out-lut-$chunk-mixed"; do
    name=$(basename "$dir"/*_weights.cpp _weights.cpp)
    check "gcc -O0 cortex-m4 lut4 chunk $chunk ($dir)" arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O0 "${warn[@]}" -c "$dir/$name.cpp"
    check "clang -O0 cortex-m3 lut4 chunk $chunk ($dir)" clang++-19 --target=thumbv7m-none-eabi -mcpu=cortex-m3 -mthumb -mfloat-abi=soft -O0 "${warn[@]}" \
      -ffreestanding -nostdlibinc -isystem /usr/lib/arm-none-eabi/include -c "$dir/$name.cpp"
  done
  grep -q "define BITGPT_LUT_WORDS 1" "$words"/*.cpp || { echo "FAIL $words: not every index a word"; failures=$((failures + 1)); }
  grep -q "define BITGPT_INT16_QUADS" "$words"/*.cpp || { echo "FAIL $words: no int16 quads"; failures=$((failures + 1)); }
  ! grep -q "define BITGPT_INT16_QUADS" out-lut-$chunk-no-quads/*.cpp || { echo "FAIL out-lut-$chunk-no-quads: int16 quads"; failures=$((failures + 1)); }
  grep -q "define BITGPT_LUT_WORDS 2" out-lut-$chunk-mixed/*.cpp || { echo "FAIL out-lut-$chunk-mixed: not both widths"; failures=$((failures + 1)); }
done
# The output folder as a library: its own CMakeLists.txt in a cross build (no host demo
# then), and every source at its top compiled together as an IDE would (the firmware
# project, with its own startup and main, is in firmware/).
check "emitted CMakeLists.txt, cross-compiled" bash -c "cmake -S out-cortex-m4-m -B cross -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE=$src/examples/firmware-cmake/arm-none-eabi.cmake > /dev/null && cmake --build cross && ! ls cross/*demo* 2> /dev/null"
mkdir -p whole
check "every top-level source together" bash -c "cd whole && arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 \
  ${warn[*]} -c ../out-cortex-m4-m/*.cpp && arm-none-eabi-ld -r -o whole.o ./*.o"
rm -f ./*.o
exit $failures
