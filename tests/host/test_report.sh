#!/usr/bin/env bash
# Host tests of `patchgate report` (issue 15): real gated applies of the
# live demo service (one committed, one reverted) write their audit log and
# histograms; the report draws them with gnuplot into PNG, SVG and HTML,
# and real headless chromium loads the page.  Checks what a reader gets:
# the PNG's size and that it is not one colour, the SVG's text, the page's
# elements and its screenshot; and for bad input, the exit code, the
# message and that no file was written.  Needs root, gnuplot and chromium.
source "$(dirname "$0")/lib.sh"
P=$EX/demo-patches
BIN=$ROOT/.output/patchgate
POL=(--set min_samples=2000 --set bake=3s --set hang_timeout=2s --set dwell=0.6s --set max_wait=20s
	--set control=parse_request)
S=$TMP/state
OUT=$TMP/out
mkdir -p "$OUT"

# pngstat FILE: "WIDTH HEIGHT COLOURS SHARE" -- the PNG decoded with the
# stdlib (zlib, the five filters), its distinct colours and the share of
# pixels that differ from the top-left one
pngstat() {
	python3 - "$1" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat, hdr = 8, b'', None
while pos < len(d):
    n, t = struct.unpack('>I4s', d[pos:pos + 8])
    body = d[pos + 8:pos + 8 + n]
    if t == b'IHDR':
        hdr = struct.unpack('>IIBBBBB', body)
    elif t == b'IDAT':
        idat += body
    pos += 12 + n
w, h, depth, ctype = hdr[:4]
assert depth == 8 and ctype in (2, 6), 'colour type %d depth %d' % (ctype, depth)
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, px, i = bytearray(stride), [], 0
for _ in range(h):
    f, row = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = row[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: row[x] = (row[x] + a) & 255
        elif f == 2: row[x] = (row[x] + b) & 255
        elif f == 3: row[x] = (row[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    px.extend(bytes(row[k:k + 3]) for k in range(0, stride, bpp * 4))
    prev = row
first = px[0]
print(w, h, len(set(px)), '%.4f' % (sum(p != first for p in px) / len(px)))
PY
}
# svgtext FILE: every text of the SVG, one line (fails when it is not well-formed XML)
svgtext() {
	python3 -c "
import sys, xml.etree.ElementTree as E
print(' '.join(t.strip() for t in E.parse(sys.argv[1]).getroot().itertext() if t.strip()))" "$1"
}
# no_out FILE: FILE absent, and no temporary file beside it
no_out() { [ ! -e "$1" ] && [ -z "$(find "$(dirname "$1")" -maxdepth 1 -name ".$(basename "$1").*" 2>/dev/null)" ]; }

echo "-- two gated applies of the demo service: good.so committed, slow.so reverted (at ${SECONDS}s)"
ST=$TMP/svc.status
"$EX/demo-service" -t 4 -r 1000 --status "$ST" >"$TMP/svc.out" 2>&1 &
SVC=$!
BG_PIDS+=("$SVC")
wait_for "$ST" requests 5
"$PG" apply --pid $SVC "$P/good.so" --state-dir "$S" "${POL[@]}" >"$TMP/good.out" 2>&1; rc=$?
check "good: committed (exit 0)" [ $rc -eq 0 ]
"$PG" revert --pid $SVC --state-dir "$S" >/dev/null 2>&1
"$PG" apply --pid $SVC "$P/slow.so" --state-dir "$S" "${POL[@]}" >"$TMP/slow.out" 2>&1; rc=$?
check "slow: reverted (exit 2)" [ $rc -eq 2 ]
check "final decisions name their histograms, which exist" python3 -c "
import json, os
recs = [json.loads(l) for l in open('$S/audit.log')]
fin = [r for r in recs if r['to'] in ('COMMITTED', 'REVERTING')]
assert len(fin) == 2 and all(os.path.isfile(os.path.join('$S', r['hist'])) for r in fin), fin
assert not any('hist' in r for r in recs if r not in fin)
h = json.load(open(os.path.join('$S', fin[1]['hist'])))
f = h['functions'][0]
assert h['type'] == 'histograms' and h['seq'] == fin[1]['seq'] and f['name'] == 'compute_answer'
assert f['base']['n'] == sum(b['n'] for b in f['base']['buckets']) >= 2000
"
check "hist files are 0600 in a 0700 directory" bash -c \
	"[ \$(stat -c %a '$S/hist') = 700 ] && [ -z \"\$(find '$S/hist' -type f ! -perm 600)\" ]"

echo "-- histograms that cannot be written do not stop the audit (at ${SECONDS}s)"
S2=$TMP/state2
mkdir -m 700 "$S2"
: >"$S2/hist"	# a file where the directory should be
"$PG" apply --pid $SVC "$P/good.so" --state-dir "$S2" "${POL[@]}" >"$TMP/good2.out" 2>&1; rc=$?
check "blocked histograms: still committed (exit 0)" [ $rc -eq 0 ]
check "blocked histograms: the gate warned" grep -q "cannot keep the histograms" "$TMP/good2.out"
check "blocked histograms: the audit ends COMMITTED, without hist" python3 -c "
import json
r = [json.loads(l) for l in open('$S2/audit.log')]
assert r[-1]['to'] == 'COMMITTED' and not any('hist' in x for x in r)"
# the service is done with: its load would only slow gnuplot and chromium
kill $SVC 2>/dev/null
wait $SVC 2>/dev/null

echo "-- PNG of the committed gate (--gate 1) (at ${SECONDS}s)"
"$PG" report "$S/audit.log" --gate 1 --out "$OUT/good.png" -j >"$TMP/r1.json" 2>"$TMP/r1.err"; rc=$?
check "png: exit 0" [ $rc -eq 0 ]
check "png: the report record says what was written" python3 -c "
import json, os
r = [json.loads(l) for l in open('$TMP/r1.json')][-1]
assert r['type'] == 'report' and r['format'] == 'png' and r['gate'] == 1 and r['gates'] == 2, r
assert r['phase'] == 'COMMITTED' and r['histograms'] and r['functions'] == ['compute_answer'], r
assert r['bytes'] == os.path.getsize('$OUT/good.png'), r
"
read -r w h ncol share < <(pngstat "$OUT/good.png" 2>/dev/null || echo 0 0 0 0)
echo "   png ${w}x$h, $ncol colours, ${share} of the pixels drawn"
check "png: 1000 wide, the timeline and one function panel tall" [ "${w}x$h" = 1000x560 ]
check "png: not blank (many colours, 2-60% of the pixels drawn)" python3 -c "
import sys; sys.exit(not ($ncol >= 20 and 0.02 <= $share <= 0.6))"

echo "-- SVG of the reverted gate (--last, the default) (at ${SECONDS}s)"
"$PG" report "$S/audit.log" --out "$OUT/slow.svg" >"$TMP/r2.out" 2>&1; rc=$?
check "svg: exit 0" [ $rc -eq 0 ]
check "svg: one plain line names the file" grep -q "^wrote $OUT/slow.svg (svg, [0-9]* bytes): gate 2 of 2" "$TMP/r2.out"
T=$(svgtext "$OUT/slow.svg" 2>&1)
check "svg: well-formed XML" [ -n "$T" ]
for want in compute_answer "p50 " "p99 " regressed REVERTING "Mann-Whitney p" baseline bake \
	BASELINE WAIT_WINDOW BAKE "seconds since the gate started"; do
	check "svg: says '$want'" grep -qF -- "$want" <<<"$T"
done
check "svg: the p99 ratio is the audit's" python3 -c "
import json, sys
fin = [json.loads(l) for l in open('$S/audit.log')][-1]
sys.exit('(x%.2f)' % fin['functions'][0]['p99_ratio'] not in sys.argv[1])" "$T"

echo "-- HTML in headless chromium (at ${SECONDS}s)"
"$PG" report "$S/audit.log" --last --out "$OUT/slow.html" -j >"$TMP/r3.json" 2>&1; rc=$?
check "html: exit 0" [ $rc -eq 0 ]
check "html: no external resource (one file, offline)" bash -c "! grep -qiE '(src|href)=\"(https?:|//)' '$OUT/slow.html'"
WIN=1000,900
CHROME=(timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars
	--user-data-dir="$TMP/chrome" --window-size="$WIN")
"${CHROME[@]}" --dump-dom "file://$OUT/slow.html" >"$TMP/dom.html" 2>"$TMP/chrome.err"
check "html: chromium loads the page" grep -q '<table id="decisions">' "$TMP/dom.html"
check "html: the picture is inline SVG with the function" python3 -c "
import re, sys
d = open('$TMP/dom.html').read()
fig = d[d.index('<figure id=\"picture\">'):d.index('</figure>')]
assert '<svg' in fig and 'compute_answer' in fig and 'p99' in fig
assert re.search(r'<table id=\"functions\">.*compute_answer.*regressed', d, re.S)
rows = d[d.index('<table id=\"decisions\">'):].count('<tr><td class=\"num\">')
import json
n = json.loads(open('$TMP/r3.json').read().splitlines()[-1])['decisions']
sys.exit(rows != n)"
"${CHROME[@]}" --screenshot="$TMP/shot.png" "file://$OUT/slow.html" >/dev/null 2>>"$TMP/chrome.err"
read -r w h ncol share < <(pngstat "$TMP/shot.png" 2>/dev/null || echo 0 0 0 0)
echo "   screenshot ${w}x$h, $ncol colours, $share of the pixels drawn"
check "html: the screenshot is the window's size" [ "${w}x$h" = 1000x900 ]
check "html: the screenshot is not blank" python3 -c "
import sys; sys.exit(not ($ncol >= 20 and $share >= 0.02))"

echo "-- bad input: exit 1 (5 without gnuplot), a message, no file written (at ${SECONDS}s)"
# badcase NAME EXPECTED-EXIT PATTERN OUT ARGS...
badcase() {
	local name=$1 want=$2 pat=$3 out=$4 rc; shift 4
	"$PG" report "$@" --out "$out" >"$TMP/bad.out" 2>"$TMP/bad.err"; rc=$?
	check "$name: exit $want" [ $rc -eq "$want" ]
	check "$name: says why" grep -qE -- "$pat" "$TMP/bad.err"
	check "$name: nothing written" no_out "$out"
}
badcase "missing log" 1 "cannot read the audit log .*No such file" "$OUT/b1.png" "$TMP/nope.log"
{ head -3 "$S/audit.log"; echo '{"type":"decision","seq":'; } >"$TMP/garbled.log"
badcase "garbled log" 1 "garbled.log:4: not an audit record" "$OUT/b2.png" "$TMP/garbled.log"
: >"$TMP/empty.log"
badcase "empty log" 1 "holds no gated apply" "$OUT/b3.svg" "$TMP/empty.log"
badcase "no such gate" 1 "holds 2 gated applies; there is no gate 3" "$OUT/b4.html" "$S/audit.log" --gate 3
badcase "unknown extension" 1 "must end in .png, .svg or .html" "$OUT/b5.pdf" "$S/audit.log"
badcase "unwritable out" 1 "cannot write $TMP/nodir/b6.png" "$TMP/nodir/b6.png" "$S/audit.log"
badcase "a PNG as the log" 1 "good.png:1: not an audit record" "$OUT/b7.svg" "$OUT/good.png"
echo old >"$OUT/keep.png"
"$PG" report "$TMP/garbled.log" --out "$OUT/keep.png" 2>/dev/null
check "a failed report leaves the old file as it was" [ "$(cat "$OUT/keep.png")" = old ]
PATH=/nonexistent "$BIN" report "$S/audit.log" --out "$OUT/b8.png" 2>"$TMP/bad.err"; rc=$?
check "no gnuplot: exit 5" [ $rc -eq 5 ]
check "no gnuplot: says to install it" grep -q "cannot run gnuplot: No such file.*gnuplot-nox" "$TMP/bad.err"
check "no gnuplot: nothing written" no_out "$OUT/b8.png"
"$PG" report "$TMP/nope.log" --out "$OUT/b9.png" -j >"$TMP/bad.json" 2>&1
check "-j: the error is a record with exit 1" grep -q '"type":"error".*"exit":1' "$TMP/bad.json"
check "--help has examples" bash -c "'$BIN' report --help | grep -q 'patchgate report /run/patchgate/audit.log --gate 3'"

echo "-- the histograms gone: the recorded quantiles, with a warning (at ${SECONDS}s)"
cp "$S/audit.log" "$TMP/nohist.log"
"$PG" report "$TMP/nohist.log" --out "$OUT/nohist.svg" -j >"$TMP/r4.json" 2>&1; rc=$?
check "no histograms: exit 0" [ $rc -eq 0 ]
check "no histograms: a warning, and the record says so" bash -c \
	"grep -q '\"type\":\"warning\".*cannot read the histograms' '$TMP/r4.json' &&
	 grep -q '\"type\":\"report\".*\"histograms\":false' '$TMP/r4.json'"
check "no histograms: the SVG says what it drew" grep -q "recorded p50/p90/p99 only" "$OUT/nohist.svg"


finish host-report
