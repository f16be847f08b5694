#!/usr/bin/env bash
# Fails when a file of the compiler includes a header of a layer above its own.
#
#   bash tests/check_layers.sh [SOURCE_DIR]
#
# The layers, lowest first (docs/architecture.md). A file may include headers of its own
# layer and of any layer below it; runtime/ (the C kernels shared with the emitted code)
# is below everything. Each layer is also a CMake library that links only the ones below.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
layers=(runtime support ir frontend targets passes codegen interp cli)

rank() {  # rank LAYER -> its index, or nothing for a folder that is not a layer
  local i
  for i in "${!layers[@]}"; do [[ ${layers[$i]} == "$1" ]] && { echo "$i"; return; }; done
}

violations=0 checked=0
for layer in "${layers[@]}"; do
  own=$(rank "$layer")
  [[ -d $root/$layer ]] || { echo "check_layers: the layer folder $layer/ is missing" >&2; exit 1; }
  while IFS= read -r file; do
    checked=$((checked + 1))
    # Project includes name their layer: #include "layer/file.h".
    while IFS=: read -r line inc; do
      dir=${inc%%/*}
      [[ $inc == */* ]] || continue  # a file of the same folder (runtime headers, emitted names)
      other=$(rank "$dir")
      if [[ -z $other ]]; then
        echo "${file#$root/}:$line: includes \"$inc\", which is in no layer (${layers[*]})"
        violations=$((violations + 1))
      elif ((other > own)); then
        echo "${file#$root/}:$line: $layer/ includes \"$inc\" from $dir/, a layer above it"
        violations=$((violations + 1))
      fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" | sed 's/^\([0-9]*\):.*"\([^"]*\)".*/\1:\2/')
  done < <(find "$root/$layer" -type f \( -name '*.h' -o -name '*.cpp' \) | sort)
done

if ((violations)); then
  echo "check_layers: $violations upward include(s) in $checked files; a lower layer must not depend on a higher one"
  exit 1
fi
echo "check_layers: $checked files, every include points down or sideways (${layers[*]})"
