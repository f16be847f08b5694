#!/usr/bin/env bash
# Smoke test of the training pipeline: trains a tiny BitNet model (d_model 32, 1 layer) for
# 150 steps on the first 200 KB of a corpus, exporting the mean of the weights at steps 100,
# 125 and 150 (--average-from), exports it and checks the exported files; and checks that a
# run stopped at step 110 (one snapshot averaged) and resumed ends with the same weights,
# bit for bit.
# One thread: on a loaded machine, torch's spinning worker threads cost more than they give.
#   usage: training/smoke_test.sh CORPUS.txt
# Exits non-zero on any failure. Takes well under a minute on 2 cores.
set -euo pipefail

corpus=${1:?usage: $0 CORPUS.txt}
[ -r "$corpus" ] || { echo "smoke_test: cannot read $corpus" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s)
source "$here/smoke_model.sh"
smoke_args "$corpus"
args+=(--average-from 100 --average-every 25)
nice -n 10 "$py" "$here/train.py" "${args[@]}" --out "$tmp/run" > "$tmp/train.out"
tail -n 6 "$tmp/train.out"
grep -q "exporting the mean of 3 snapshots (steps 100..150 every 25)" "$tmp/train.out" ||
    { echo "smoke_test: FAIL: the run did not average steps 100, 125 and 150" >&2; exit 1; }
nice -n 10 "$py" "$here/train.py" "${args[@]}" --out "$tmp/resumed" --stop-at 110 > /dev/null
# resumed without the averaging options: the run keeps its own
nice -n 10 "$py" "$here/train.py" --resume --steps 150 --threads 1 --out "$tmp/resumed" > /dev/null
"$py" - "$tmp/run/ckpt.pt" "$tmp/resumed/ckpt.pt" <<'EOF'
import sys, torch
a, b = (torch.load(p, map_location="cpu")["model"] for p in sys.argv[1:3])
same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
print("smoke_test: stopped at 110 and resumed: %s" % ("the same weights" if same else "FAIL: other weights"))
sys.exit(0 if same else 1)
EOF

nice -n 10 "$py" "$here/export.py" "$tmp/run/ckpt.pt" --out-dir "$tmp/export" --name smoke \
    --check-text "It is a truth universally acknowledged"

for f in model.json model.weights.bin; do
    [ -s "$tmp/export/$f" ] || { echo "smoke_test: FAIL: $f missing or empty" >&2; exit 1; }
done

# Independent re-check of size and FNV-1a 64 (not using export.py's code), and that the
# model learned something (uniform guessing over 256 bytes is 5.545 nats/char).
"$py" - "$tmp/export" "$tmp/run/metrics.json" <<'EOF'
import json, os, sys
d, metrics = sys.argv[1], sys.argv[2]
man = json.load(open(os.path.join(d, "model.json")))
data = open(os.path.join(d, man["weights"]["file"]), "rb").read()
h = 0xcbf29ce484222325
for b in data:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
ok = True
if len(data) != man["weights"]["bytes"]:
    print("smoke_test: FAIL: size %d != %d" % (len(data), man["weights"]["bytes"])); ok = False
if "%016x" % h != man["weights"]["fnv1a64"]:
    print("smoke_test: FAIL: hash %016x != %s" % (h, man["weights"]["fnv1a64"])); ok = False
val = json.load(open(metrics))["val"]["full"]["nats_per_char"]
if not val < 4.0:
    print("smoke_test: FAIL: validation loss %.3f nats/char, the model did not learn" % val); ok = False
print("smoke_test: %d-byte sidecar, fnv1a64 %016x, val %.3f nats/char" % (len(data), h, val))
sys.exit(0 if ok else 1)
EOF
echo "smoke_test: PASS in $(( $(date +%s) - start )) s"
