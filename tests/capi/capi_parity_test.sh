#!/usr/bin/env bash
# The C face returns the ids of `strata search` for the same queries and parameters: a collection
# bulk-loaded by `strata ingest` (a disk generation) plus writes through its log (the hot tier),
# searched by `strata search --out` and by the C API (capi_ids), compared id for id.
# Usage: capi_parity_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
strata=$build/tools/strata
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata_capi_parity.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
nq=25

"$strata" gen --quiet --n 4600 --dim 24 --seed 9 --queries $nq --out "$tmp/all.fbin" \
  --queries-out "$tmp/q.fbin"
# Rows 0..3999 and 4000..4599 of the same data as two files.
python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
with open(d + "/all.fbin", "rb") as f:
    n, dim = struct.unpack("<II", f.read(8))
    rows = f.read()
for name, a, b in (("base", 0, 4000), ("more", 4000, 4600)):
    with open(f"{d}/{name}.fbin", "wb") as o:
        o.write(struct.pack("<II", b - a, dim) + rows[a * dim * 4:b * dim * 4])
PY
"$strata" ingest --quiet "$tmp/docs" --data "$tmp/base.fbin"        # ids 0..3999: generation 1
"$strata" ingest --quiet "$tmp/docs" --data "$tmp/more.fbin"        # ids 4000..4599: the log
for L in 20 100; do
  "$strata" search --quiet --index "$tmp/docs" --queries "$tmp/q.fbin" --L $L --k 10 \
    --out "$tmp/ref.ibin"
  od -An -v -t d4 -j 8 "$tmp/ref.ibin" | tr -s ' ' '\n' | sed '/^$/d' >"$tmp/ref.txt"
  [[ $(wc -l <"$tmp/ref.txt") -eq $((nq * 10)) ]] || fail "reference holds $(wc -l <"$tmp/ref.txt") ids"
  "$build/tests/capi/capi_ids" "$tmp/docs" "$tmp/q.fbin" 10 $L >"$tmp/c.txt"
  cmp -s "$tmp/ref.txt" "$tmp/c.txt" || { diff "$tmp/ref.txt" "$tmp/c.txt" | head; fail "C API ids differ from strata search at L=$L"; }
  grep -qE '^(4[0-5][0-9][0-9])$' "$tmp/c.txt" || fail "no hot-tier id among the results at L=$L"
  echo "capi: $nq queries at L=$L return the ids of strata search ($((nq * 10)) ids)"
done
