#!/usr/bin/env bash
# Installs what is needed, builds everything and runs the whole test suite (unit tests
# and end-to-end runs). CTest's summary line is the verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake -S . -B build -G Ninja > /dev/null
cmake --build build
cd build
ctest -j2 --output-on-failure
