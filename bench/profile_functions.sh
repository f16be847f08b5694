#!/usr/bin/env bash
# Executed instructions per function of a firmware, from the plugin's profile=PATH output.
#   bash bench/profile_functions.sh firmware.elf profile.txt [TOP]
set -euo pipefail
elf=$1 profile=$2 top=${3:-20}
# the symbols with the toolchain of the ELF's machine
nm=arm-none-eabi-nm
readelf -h "$elf" | grep -q 'RISC-V' && nm=riscv64-unknown-elf-nm
"$nm" -n -S --defined-only "$elf" | awk '$3 ~ /[tTwW]/ && NF == 4 { print $1, $2, $4 }' > "$profile.syms"
awk -v top="$top" '
  function hex(s,   v, i) { v = 0; s = tolower(s); for (i = 1; i <= length(s); ++i) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
  NR == FNR { start[NR] = hex($1); size[NR] = hex($2); name[NR] = $3; n = NR; next }
  { pc = hex($1); total += $2
    for (i = 1; i <= n; ++i) if (pc >= start[i] && pc < start[i] + size[i]) { by[name[i]] += $2; next }
    by["(unknown)"] += $2 }
  END { for (f in by) printf "%12d %5.1f%%  %s\n", by[f], 100 * by[f] / total, f | "sort -rn | head -n " top }
' "$profile.syms" "$profile"
rm -f "$profile.syms"
