#!/usr/bin/env bash
# A firmware engineer's CMake project (examples/firmware-cmake) against an installed
# bitgptc: cmake --install into a fresh prefix, find_package(bitgptc) and
# bitgptc_add_model in a cross build (no build type: the model compiled without
# optimisation, as in a Debug build), run on QEMU, compared with `bitgptc run`. Then new
# weights for the same model: the model library is rebuilt and main.c is not; and with
# nothing changed, nothing is rebuilt.
#   firmware_cmake.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
cmake --install "$build" --prefix "$work/prefix" > /dev/null
make_model() { "$build/tests/make_test_model" --out model/model.json --d 32 --layers 2 --heads 4 --kv-heads 1 --ff 64 --seed "$1" > /dev/null; }
make_model 1
cmake -S "$src/examples/firmware-cmake" -B fw -G Ninja -DCMAKE_TOOLCHAIN_FILE="$src/examples/firmware-cmake/arm-none-eabi.cmake" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DMODEL="$work/model/model.json" > configure.log
cmake --build fw > build1.log
run_and_compare() {
  timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial null -chardev stdio,id=console \
    -semihosting-config enable=on,target=native,chardev=console -kernel "${2:-fw}/chat.elf" > firmware.txt
  "$work/prefix/bin/bitgptc" run model/model.json --target cortex-m4 --sram 16K --prompt "Once upon a time" -n 32 > run.txt
  if ! cmp -s firmware.txt run.txt; then echo "FAIL: the firmware and bitgptc run differ" >&2; diff firmware.txt run.txt >&2; exit 1; fi
  echo "ok $1: $(tail -n 1 firmware.txt)"
}
run_and_compare "user firmware, model built at -O0"

main_obj=$(find fw -name 'main.c.o*' | head -n 1)
weights_obj=$(find fw -name 'storyteller_weights.cpp.o*' | head -n 1)
before_main=$(stat -c %.9Y "$main_obj") before_weights=$(stat -c %.9Y "$weights_obj")
sleep 1.1
make_model 2  # new weights, same shape
cmake --build fw > build2.log
if [[ $(stat -c %.9Y "$main_obj") != "$before_main" ]]; then echo "FAIL: new weights recompiled main.c" >&2; cat build2.log >&2; exit 1; fi
if [[ $(stat -c %.9Y "$weights_obj") == "$before_weights" ]]; then echo "FAIL: new weights did not rebuild the model" >&2; cat build2.log >&2; exit 1; fi
echo "ok new weights: the model library rebuilt, main.c not"
run_and_compare "new weights"
if ! ninja -C fw -n | grep -q "no work to do"; then echo "FAIL: an unchanged project rebuilds" >&2; ninja -C fw -n -d explain >&2; exit 1; fi
echo "ok unchanged: nothing to rebuild"

# The same project with the model as an object (EMIT obj): nothing of it compiled here.
cmake -S "$src/examples/firmware-cmake" -B fw-obj -G Ninja -DCMAKE_TOOLCHAIN_FILE="$src/examples/firmware-cmake/arm-none-eabi.cmake" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DMODEL="$work/model/model.json" -DEMIT=obj > configure-obj.log
cmake --build fw-obj > build-obj.log
if find fw-obj -name 'storyteller*.cpp.o*' | grep -q .; then echo "FAIL: EMIT obj compiled model sources" >&2; exit 1; fi
run_and_compare "user firmware linking the model's object" fw-obj

# The Make include: a rule for the model's sources, rerun when (and only when) an input changes.
cat > Makefile <<MAKE
all: make-out/tiny.o
include $work/prefix/share/bitgptc/bitgptc.mk
BITGPTC := $work/prefix/bin/bitgptc
CPU := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
\$(eval \$(call bitgptc_model,tiny,model/model.json,cortex-m4,16K,make-out))
make-out/tiny.o: make-out/tiny.cpp make-out/tiny.h
	arm-none-eabi-g++ \$(CPU) -O2 -std=c++17 -fno-exceptions -fno-rtti -Imake-out -c \$< -o \$@
MAKE
make -s > make1.log
[[ -f make-out/tiny.o ]] || { echo "FAIL: the Make include built nothing" >&2; exit 1; }
if [[ -n $(make -s -n) ]]; then echo "FAIL: make reruns with nothing changed: $(make -n)" >&2; exit 1; fi
sleep 1.1 && touch model/model.weights.bin
if ! make -n | grep -q "bitgptc model/model.json"; then echo "FAIL: touching the weights does not rerun bitgptc" >&2; exit 1; fi
echo "ok Make include: builds, reruns bitgptc when the weights change, and only then"
cat > Makefile.obj <<MAKE
all: make-obj/tiny.o
include $work/prefix/share/bitgptc/bitgptc.mk
BITGPTC := $work/prefix/bin/bitgptc
\$(eval \$(call bitgptc_object,tiny,model/model.json,cortex-m4,16K,make-obj))
MAKE
make -s -f Makefile.obj > make-obj.log
[[ -f make-obj/tiny.o && -f make-obj/tiny.h ]] || { echo "FAIL: bitgptc_object built no object" >&2; exit 1; }
if [[ -n $(make -s -n -f Makefile.obj) ]]; then echo "FAIL: make reruns bitgptc_object with nothing changed" >&2; exit 1; fi
echo "ok Make include, object: builds tiny.o, nothing to redo after"
