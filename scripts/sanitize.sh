#!/usr/bin/env bash
# Builds bitgptc, its unit tests, test tools and the libFuzzer harnesses with clang-19,
# AddressSanitizer and UndefinedBehaviorSanitizer (every finding fatal) in BUILD_DIR, then
# runs there: the unit tests, the end-to-end runs on the host (the emitted code also built
# with both sanitizers; QEMU boards are left to the normal suite), and each fuzz harness
# for a fixed number of executions from its seeds. The normal suite runs this as the test
# sanitizers.unit_host_fuzz.
#   bash scripts/sanitize.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build-sanitize}
# A tree configured with another compiler is configured afresh (CMake keeps the first one).
if [[ -f $dir/CMakeCache.txt ]] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang++-19' "$dir/CMakeCache.txt"; then rm -rf "$dir"; fi
# A unity build (several sources a compilation): this tree is only ever built whole, and
# batching the sources compiles the JSON, fmt and CLI11 templates they share once a batch
# under the instrumentation (a fresh tree here: 3 min 7 s and 5 min 55 s of CPU, against
# about 3 min 50 s and 7 min 30 s file by file).
# Line tables are all the sanitizers' reports need from debug information (-g costs 9 %
# more of clang's time here).
CC=clang-19 CXX=clang++-19 cmake -S "$root" -B "$dir" -G Ninja -DBITGPT_SANITIZE=ON -DBITGPT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
  -DCMAKE_UNITY_BUILD=ON > /dev/null
cmake --build "$dir" -- -j2 > "$dir.build.log" 2>&1 || { tail -n 40 "$dir.build.log"; exit 1; }
cd "$dir"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export BITGPT_E2E_SANITIZE=1 BITGPT_E2E_HOST_ONLY=1
# The unit tests in one process: one per test (as CTest runs them) spent 63 s of CPU
# starting 132 instrumented processes, against 22 s for one.
./tests/unit_tests --gtest_brief=1
# Two at a time: the normal suite's other tests are mostly done by the time this tree is
# built, and one at a time left a core idle for most of this test's ~9 minutes.
ctest -j2 -L 'e2e|fuzz' -E 'insn_count|shipped_example|real_checkpoints|compile_matrix|firmware_cmake|report_html' --output-on-failure
