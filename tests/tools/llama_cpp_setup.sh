# Sourced by the scripts that run llama.cpp itself (tests/e2e/llama_cpp_oracle.sh,
# bench/host_vs_llama_cpp.sh): the npm package node-llama-cpp@3.21.1 installed into the
# build's cache (its prebuilt libraries, and llama.cpp's source cloned from its bundle for
# the headers); nothing of it is in the repository.
#   llama_cpp_setup BUILD_DIR          sets $bins (the libraries' folder) and $llama_src;
#                                      returns 1, saying why, when it cannot install
#   llama_cpp_build_oracle SOURCE_DIR OUT   compiles tests/tools/llama_cpp_oracle.c
# BITGPT_LLAMA_CPP_CACHE names another folder to install into: the sanitizer tree's suite
# (scripts/sanitize.sh, run by CTest) reuses the normal build's install instead of
# downloading the package again; a lock keeps two installs into one folder from racing.

llama_cpp_setup() {
  local cache=${BITGPT_LLAMA_CPP_CACHE:-$1/cache/node-llama-cpp}
  mkdir -p "$cache" 2> /dev/null || { echo "skip: cannot create $cache"; return 1; }
  (
    # 15 minutes at most behind another tree's install (a hung npm there)
    flock -w 900 9 || { echo "skip: no lock on $cache/.install.lock within 15 minutes"; exit 1; }
    if [[ ! -f $cache/node_modules/node-llama-cpp/llama/gitRelease.bundle ]]; then
      command -v npm > /dev/null || { echo "skip: npm is not installed (scripts/setup-debian.sh installs it)"; exit 1; }
      (cd "$cache" && npm i -E node-llama-cpp@3.21.1 --ignore-scripts --no-audit --no-fund > npm.log 2>&1) ||
        { echo "skip: npm could not install node-llama-cpp@3.21.1: $(tail -n 3 "$cache/npm.log")"; exit 1; }
    fi
    [[ -d $cache/llama.cpp/include ]] || git clone -q "$cache/node_modules/node-llama-cpp/llama/gitRelease.bundle" "$cache/llama.cpp" 2> /dev/null
  ) 9> "$cache/.install.lock" || return 1
  bins=$cache/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
  llama_src=$cache/llama.cpp
}

llama_cpp_build_oracle() {
  cc -O1 -std=c11 -Wall -Wextra -Werror "$1/tests/tools/llama_cpp_oracle.c" -I"$llama_src/include" -I"$llama_src/ggml/include" \
    -L"$bins" -l:libllama.v0.4.0.so -l:libggml.v0.4.0.so -l:libggml-base.so -lm -Wl,-rpath,"$bins" -o "$2"
}
