#!/usr/bin/env bash
# The SQLite face, driven through Debian's sqlite3 shell: `.load` libstrata_sqlite, a strata
# virtual table over a collection bulk-loaded by `strata ingest`, writes through SQL (INSERT,
# DELETE, a ROLLBACK that does not undo them), k-NN searches that must return the same ids as
# `strata search` for the same queries and parameters, a join with an ordinary table, point
# lookups, a collection created from SQL, and the error messages of bad input.
# Usage: sqlite_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
strata=$build/tools/strata
ext=$build/extensions/sqlite/libstrata_sqlite
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 not installed (scripts/setup.sh)"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata_sqlite.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dim=16
nq=20

fail() { echo "FAIL: $*"; exit 1; }
# sql DB: runs stdin in sqlite3 with the extension loaded; stops at the first error.
sql() { { echo ".load $ext"; cat; } | timeout 120 sqlite3 -bail -batch "$1"; }
# sql_fails DB NEEDLE: stdin must fail with a message containing NEEDLE.
sql_fails() {
  local out
  if out=$({ echo ".load $ext"; cat; } | timeout 120 sqlite3 -bail -batch "$1" 2>&1); then
    fail "expected an error containing '$2', got success: $out"
  fi
  grep -qF -- "$2" <<<"$out" || fail "expected an error containing '$2', got: $out"
}
q() { echo "substr(readfile('$tmp/q.fbin'), $((9 + $1 * dim * 4)), $((dim * 4)))"; }

"$strata" gen --quiet --n 3000 --dim $dim --seed 7 --queries $nq --out "$tmp/base.fbin" \
  --queries-out "$tmp/q.fbin"
"$strata" ingest --quiet "$tmp/docs" --data "$tmp/base.fbin"   # ids 0..2999, generation 1

# Session 1: the table, writes through SQL.
db=$tmp/app.db
out=$(sql "$db" <<SQL
SELECT strata_version();
CREATE VIRTUAL TABLE v USING strata(dir='$tmp/docs', dim=$dim, metric=l2);
INSERT INTO v(rowid, vector) SELECT 5000, $(q 0);
SELECT rowid || ' ' || distance FROM v WHERE vector MATCH $(q 0) AND k = 1;
DELETE FROM v WHERE rowid = 5000;
SELECT count(*) FROM v WHERE vector MATCH $(q 0) AND k = 50 AND rowid = 5000;
BEGIN;
INSERT INTO v(rowid, vector) SELECT 5001, $(q 1);
ROLLBACK;
SELECT rowid FROM v WHERE vector MATCH $(q 1) AND k = 1;
INSERT INTO v(rowid, vector) VALUES (6000, '[$(seq -s ', ' 1 $dim)]');
SELECT rowid || ' ' || distance FROM v WHERE vector MATCH '[$(seq -s ',' 1 $dim)]' AND k = 1;
UPDATE v SET vector = '[$(seq -s ', ' 2 $((dim + 1)))]' WHERE rowid = 6000;
SELECT rowid || ' ' || distance FROM v WHERE vector MATCH '[$(seq -s ',' 2 $((dim + 1)))]' AND k = 1;
$(for i in $(seq 0 5 245); do echo "DELETE FROM v WHERE rowid = $i;"; done)
SQL
)
expected=$(printf '%s\n' 0.1.0 "5000 0.0" 0 5001 "6000 0.0" "6000 0.0")
[[ $out == "$expected" ]] || fail "session 1 printed:
$out
expected:
$expected"
echo "sqlite: writes, a rolled-back insert that stays (writes are not transactional), updates: ok"

# The reference: strata search over the same collection state (the log holds the SQL writes).
"$strata" search --quiet --index "$tmp/docs" --queries "$tmp/q.fbin" --L 100 --k 10 \
  --out "$tmp/ref.ibin"
od -An -v -t d4 -j 8 "$tmp/ref.ibin" | tr -s ' ' '\n' | sed '/^$/d' >"$tmp/ref.txt"
[[ $(wc -l <"$tmp/ref.txt") -eq $((nq * 10)) ]] || fail "reference holds $(wc -l <"$tmp/ref.txt") ids"

# Session 2: the same queries through SQL; a join with an ordinary table; point lookups.
sql "$db" >"$tmp/sql.txt" <<SQL
$(for i in $(seq 0 $((nq - 1))); do
    echo "SELECT rowid FROM v WHERE vector MATCH $(q $i) AND k = 10 AND search_list = 100;"
  done)
SQL
cmp -s "$tmp/ref.txt" "$tmp/sql.txt" || { diff "$tmp/ref.txt" "$tmp/sql.txt" | head; fail "SQL ids differ from strata search"; }
if grep -qxE '(0|5|10|15|20|5000)' "$tmp/sql.txt"; then fail "a deleted id was returned"; fi
echo "sqlite: $nq queries return the ids of strata search ($((nq * 10)) ids)"

join=$(sql "$db" <<SQL
CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999)
INSERT INTO docs SELECT i, 'doc ' || i FROM n;
SELECT d.id || ' ' || d.title FROM v JOIN docs d ON d.id = v.rowid
  WHERE v.vector MATCH $(q 3) AND v.k = 10 ORDER BY v.distance;
SQL
)
expected=$(sed -n '31,40p' "$tmp/ref.txt" | awk '{print $1 " doc " $1}')
[[ $join == "$expected" ]] || fail "join printed:
$join
expected:
$expected"
out=$(sql "$db" <<SQL
SELECT length(vector) FROM v WHERE rowid = 101;
SELECT count(*) FROM v WHERE rowid = 0;
SELECT vector = substr(readfile('$tmp/base.fbin'), $((9 + 101 * dim * 4)), $((dim * 4))) FROM v WHERE rowid = 101;
SQL
)
[[ $out == $'64\n0\n1' ]] || fail "point lookups printed: $out"
echo "sqlite: join with an ordinary table, point lookups: ok"

# A collection created from SQL (cosine); DROP TABLE keeps its directory.
out=$(sql "$tmp/new.db" <<SQL
CREATE VIRTUAL TABLE c USING strata(dir='$tmp/fresh', dim=4, metric=cosine);
INSERT INTO c(rowid, vector) VALUES (1, '[1, 0, 0, 0]'), (2, '[0, 1, 0, 0]'), (3, '[1, 1, 0, 0]');
SELECT group_concat(rowid) FROM c WHERE vector MATCH '[2, 0.1, 0, 0]' AND k = 3;
DROP TABLE c;
SQL
)
[[ $out == "1,3,2" ]] || fail "cosine collection printed: $out"
[[ -f $tmp/fresh/MANIFEST ]] || fail "DROP TABLE removed the collection directory"

# Bad input: clear messages.
e=$tmp/err.db
sql_fails "$db" "dimension 16 takes 64 bytes" <<<"SELECT rowid FROM v WHERE vector MATCH x'00112233' AND k = 3;"
sql_fails "$db" "needs \`vector MATCH ?\`" <<<"SELECT rowid FROM v;"
sql_fails "$db" "k must be an integer in [1, 1000]" <<<"SELECT rowid FROM v WHERE vector MATCH $(q 0) AND k = 0;"
sql_fails "$db" "not a text array of 16 numbers" <<<"SELECT rowid FROM v WHERE vector MATCH '[1, 2' AND k = 3;"
sql_fails "$db" "rowid must be given" <<<"INSERT INTO v(vector) SELECT $(q 0);"
sql_fails "$db" "row 0: " <<<"INSERT INTO v(rowid, vector) VALUES (7, '[$(seq -s ', ' 1 15), 1e39]');"
sql_fails "$e" "dir= is required" <<<"CREATE VIRTUAL TABLE w USING strata(dim=4);"
sql_fails "$e" "dim= is required to create one" <<<"CREATE VIRTUAL TABLE w USING strata(dir='$tmp/none');"
sql_fails "$e" "bad value 'manhattan' for metric" <<<"CREATE VIRTUAL TABLE w USING strata(dir='$tmp/x', dim=4, metric=manhattan);"
sql_fails "$e" "unknown argument 'colour'" <<<"CREATE VIRTUAL TABLE w USING strata(dir='$tmp/x', colour=red);"
sql_fails "$e" "dim= differs" <<<"CREATE VIRTUAL TABLE w USING strata(dir='$tmp/docs', dim=8);"
# Two connections on one collection: the second waits lock_timeout_ms, then is refused.
sql_fails "$e" "open through another handle or process" <<SQL
CREATE VIRTUAL TABLE a USING strata(dir='$tmp/docs');
CREATE VIRTUAL TABLE b USING strata(dir='$tmp/docs', lock_timeout_ms=100);
SQL
echo "sqlite_test: all checks passed"
