#!/usr/bin/env bash
# Installs what bitgptc needs (Debian 12), builds it, compiles the shipped example model
# for a Cortex-M4 with 8 KiB of SRAM, prints the memory plan, builds the emitted code's
# host demo and generates text with it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake -S . -B build -G Ninja > /dev/null
cmake --build build --target bitgptc
model=examples/austen/model.json
build/bitgptc "$model" --target cortex-m4 --sram 8K -o build/example --report-json build/example-plan.json
cmake -S build/example -B build/example/build -G Ninja > /dev/null
cmake --build build/example/build > /dev/null
echo
echo "--- generated on the host by the emitted code (greedy, 300 tokens) ---"
build/example/build/austen_demo --prompt "It is a truth universally acknowledged" -n 300
