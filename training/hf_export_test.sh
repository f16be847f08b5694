#!/usr/bin/env bash
# Round trips of export.py's Hugging Face and GGUF formats through bitgptc: trains the tiny
# smoke-test model (bytes tokenizer, 40 steps, one thread) and a variant with the 512-entry
# table tokenizer and d_ff 256 (so that ffn_down is a TQ2_0 / TQ1_0 matrix in GGUF), exports
# each as native, hf (packed), hf --shards 3, hf --hf-weights latent and gguf (the table
# model also gguf --gguf-ternary tq1_0), converts every export to model.json with bitgptc and
# compares it with the native export's conversion, then compares `bitgptc run` checksums.
#   usage: training/hf_export_test.sh CORPUS.txt BITGPTC     (BITGPTC: e.g. build/bitgptc)
# Expected: packed, sharded and the bytes model's gguf (all F32) give the same manifest
# (but for the name, and the epsilon as float32 from GGUF), byte-identical weights and the
# same checksum; TQ gguf the same codes with every scale rounded to fp16; latent the same
# manifest, and the number of codes / the scale change a reader's own ternarisation gives.
# Exits non-zero on any failure or mismatch that must not happen.
set -euo pipefail

corpus=${1:?usage: $0 CORPUS.txt BITGPTC}
bitgptc=${2:?usage: $0 CORPUS.txt BITGPTC}
[ -r "$corpus" ] || { echo "hf_export_test: cannot read $corpus" >&2; exit 1; }
[ -x "$bitgptc" ] || { echo "hf_export_test: $bitgptc is not executable" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)

source "$here/smoke_model.sh"
smoke_args "$corpus"
# The round trips need a checkpoint, not a good model: 40 steps instead of 150 (~4 s of
# CPU less a model; the smoke test checks what training learns).
args+=(--steps 40)
nice -n 10 "$py" "$here/train.py" "${args[@]}" --out "$tmp/bytes/run" > "$tmp/bytes.train.out"
nice -n 10 "$py" "$here/train.py" "${args[@]}" --tokenizer "$here/tokenizers/austen_512.json" --d-ff 256 \
    --out "$tmp/table/run" > "$tmp/table.train.out"

# model variant export-options comparison
variants=(
    "bytes hf          --format=hf                       exact"
    "bytes hf_shards3  --format=hf,--shards=3            exact"
    "bytes hf_latent   --format=hf,--hf-weights=latent   latent"
    "bytes gguf        --format=gguf                     exact"
    "table hf          --format=hf                       exact"
    "table hf_shards3  --format=hf,--shards=3            exact"
    "table hf_latent   --format=hf,--hf-weights=latent   latent"
    "table gguf        --format=gguf                     fp16"
    "table gguf_tq1_0  --format=gguf,--gguf-ternary=tq1_0 fp16"
)
export_model() {  # model variant options...
    local m=$1 v=$2
    shift 2
    nice -n 10 "$py" "$here/export.py" "$tmp/$m/run/ckpt.pt" --out-dir "$tmp/$m/$v" --name smoke \
        --check-text "It is a truth universally acknowledged" "$@" > "$tmp/$m/$v.export.out" \
        || { cat "$tmp/$m/$v.export.out" >&2; echo "hf_export_test: FAIL: export $m $v" >&2; exit 1; }
    grep -h "^wrote\|warning" "$tmp/$m/$v.export.out" | sed "s|$tmp/||g"
}
# convert and run one export; results in $tmp/M/V.conv.json (if convert worked) and V.checksum
round_trip() {  # model variant source
    local m=$1 v=$2 src=$3
    "$bitgptc" convert "$src" --to json "$tmp/$m/$v.conv.json" > "$tmp/$m/$v.convert.log" 2>&1 \
        || rm -f "$tmp/$m/$v.conv.json"
    ( "$bitgptc" run "$src" --prompt "It is a truth" -n 32 2> "$tmp/$m/$v.run.log" || true ) \
        | sed -n 's/^logits-checksum: //p' > "$tmp/$m/$v.checksum"
}
for m in bytes table; do
    export_model "$m" native
    round_trip "$m" native "$tmp/$m/native/model.json"
done
for line in "${variants[@]}"; do
    read -r m v opts mode <<< "$line"
    IFS=, read -r -a o <<< "$opts"
    export_model "$m" "$v" "${o[@]}"
    src="$tmp/$m/$v"
    [ -f "$src/smoke.gguf" ] && src="$src/smoke.gguf"
    round_trip "$m" "$v" "$src"
done

status=0
"$py" - "$tmp" "$here" "${variants[@]}" <<'EOF' || status=$?
import json, os, sys
import numpy as np
tmp, here, variants = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path.insert(0, here)
import export, tokenizer as tokmod


def normalised(man):
    """The manifest without its name and sidecar, floats as float32 (GGUF stores them so),
    a bytes tokenizer as the table of its 256 bytes (what the other formats hold)."""
    m = {k: v for k, v in man.items() if k not in ("name", "weights", "provenance", "source")}
    m["architecture"] = {k: float(np.float32(v)) if isinstance(v, float) else v
                         for k, v in m["architecture"].items()}
    if m["tokenizer"]["type"] == "bytes":
        m["tokenizer"] = {"type": "table", "bos": m["tokenizer"]["bos"],
                          "tokens": [tokmod.token_string(bytes([i])) for i in range(256)]}
    return m


def read(m, v):
    path = os.path.join(tmp, m, v + ".conv.json")
    if not os.path.exists(path):
        return None
    man, arrays = export.read_back(path)
    with open(os.path.join(os.path.dirname(path), man["weights"]["file"]), "rb") as f:
        return man, arrays, f.read()


def checksum(m, v):
    with open(os.path.join(tmp, m, v + ".checksum")) as f:
        return f.read().strip()


rows, failed = [], False
for line in variants:
    m, v, opts, mode = line.split()
    base, base_sum = read(m, "native"), checksum(m, "native")
    got, got_sum = read(m, v), checksum(m, v)
    must = []  # what must hold in this mode
    if base is None or not base_sum:
        row = [m, v, "native convert/run FAILED", "", "", ""]
        must.append(False)
    elif got is None:
        row = [m, v, "FAILED (%s.convert.log)" % v, "", "", got_sum or "FAILED"]
        must.append(False)
    else:
        same_man = normalised(got[0]) == normalised(base[0])
        must.append(same_man)
        identical = got[2] == base[2]
        codes = [k for k in base[1] if k.endswith("#codes")]
        if mode == "exact":
            weights = "identical" if identical else "DIFFER"
            must.append(identical)
        else:
            ndiff = sum(int((base[1][k] != got[1][k]).sum()) for k in codes if k in got[1])
            rel = max(abs(got[1][k[:-6] + "#scale"][0] / base[1][k[:-6] + "#scale"][0] - 1) for k in codes)
            floats_same = all(np.array_equal(base[1][k], got[1][k]) for k in base[1] if "#" not in k
                              and k + "#codes" not in base[1])
            weights = "%d codes differ, scales max rel diff %.2e" % (ndiff, rel)
            if mode == "fp16":  # codes exact, every scale the fp16 of the native one
                must.append(ndiff == 0 and rel <= 2.0 ** -11 and floats_same)
            else:
                weights += "" if floats_same else ", FLOAT TENSORS DIFFER"
                must.append(floats_same)
        same_sum = got_sum == base_sum
        if mode == "exact":
            must.append(same_sum)
        row = [m, v, "ok", "equal" if same_man else "DIFFER", weights,
               ("same" if same_sum else "other: %s" % (got_sum or "run FAILED"))]
        if not got_sum:
            must.append(False)
    ok = all(must)
    failed = failed or not ok
    rows.append(row + ["ok" if ok else "FAIL"])

head = ["model", "export", "convert", "manifest", "weights vs native", "run checksum", ""]
widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
print("native checksums: bytes %s, table %s" % (checksum("bytes", "native"), checksum("table", "native")))
sys.exit(1 if failed else 0)
EOF
echo "hf_export_test: $([ $status = 0 ] && echo PASS || echo FAIL) in $(( $(date +%s) - start )) s"
exit $status
