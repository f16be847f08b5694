#!/usr/bin/env bash
# The HTML report in a real browser (Debian's chromium, headless): the page renders, its
# screenshot is not blank, and the arena's SVG has one rectangle per buffer of the plan.
#   report_html.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$build/bitgptc" "$src/examples/austen/model.json" --target cortex-m4 --sram 8K -q --report-html plan.html --report-json plan.json
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
        --disable-component-update --disable-sync --user-data-dir="$work/profile" --window-size=1100,1300)
timeout 120 "${chrome[@]}" --dump-dom "file://$work/plan.html" > dom.html 2> chrome.log
timeout 120 "${chrome[@]}" --screenshot="$work/plan.png" "file://$work/plan.html" >> chrome.log 2>&1
/usr/bin/python3 - plan.json dom.html plan.png <<'PY'
import json, re, struct, sys, zlib
plan, dom, png = sys.argv[1:4]
buffers = len(json.load(open(plan))["buffers"])
rects = len(re.findall(r'<rect class="buffer"', open(dom).read()))
ok = True
if rects != buffers:
    print("FAIL: the rendered SVG has %d buffer rectangles, the plan %d buffers" % (rects, buffers)); ok = False
# the screenshot: decode the PNG's rows and count the distinct ones (a blank page has one)
data = open(png, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
at, idat, width, height = 8, b"", 0, 0
while at < len(data):
    n, kind = struct.unpack(">I4s", data[at:at + 8])
    body = data[at + 8:at + 8 + n]
    if kind == b"IHDR": width, height = struct.unpack(">II", body[:8])
    if kind == b"IDAT": idat += body
    at += 12 + n
raw = zlib.decompress(idat)
stride = len(raw) // height
rows = {raw[i * stride + 1:(i + 1) * stride] for i in range(height)}
if len(rows) < 50:
    print("FAIL: the screenshot (%dx%d) has %d distinct rows: blank?" % (width, height, len(rows))); ok = False
print("ok html report: %d buffer rectangles for %d buffers; screenshot %dx%d with %d distinct rows" % (rects, buffers, width, height, len(rows)))
sys.exit(0 if ok else 1)
PY
