#!/usr/bin/env bash
# Installs every Debian package bitgptc needs to build, test and run its examples.
# Idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  build-essential cmake ninja-build
  llvm-19-dev clang-19 libclang-rt-19-dev nlohmann-json3-dev libcli11-dev libfmt-dev libgtest-dev  # clang-19: libFuzzer harnesses
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc  # the RISC-V targets (rv32imac, rv32imc on sifive_e)
  python3-torch python3-numpy libopenblas0-pthread  # training/ (BitNet QAT) and its smoke test
  chromium  # the HTML report is checked in a real browser
  git  # the llama.cpp oracle test clones llama.cpp's headers from the npm package's bundle
)

# npm installs node-llama-cpp (llama.cpp's prebuilt libraries) for the llama.cpp oracle
# test; Debian's npm package only where no Node.js of another origin already brings npm
# (the two conflict).
command -v npm > /dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
