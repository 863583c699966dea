#!/usr/bin/env bash
# The PostgreSQL face against a real PostgreSQL 15: a throwaway cluster initialized as a non-root
# user (strata-pg) in a temporary directory, reachable only on a Unix socket there, stopped on any
# exit. Installs the extension (scripts/install_pg_extension.sh), bulk-loads a collection with
# strata ingest, writes through SQL (including a ROLLBACK that does not undo them), checks that
# strata_search returns the ids of `strata search` for the same queries and parameters, that the
# join of the issue returns the right rows, the one-backend-at-a-time lock, strata.keep_open =
# off, and the errors of bad input.
# Usage: postgres_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
strata=$build/tools/strata
dim=16
nq=20
fail() { echo "FAIL: $*"; exit 1; }
source "$src/scripts/pg_cluster.sh"
"$src/scripts/install_pg_extension.sh" "$build" "$PG_BIN/pg_config" >/dev/null

tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata_pg.XXXXXX")
cleanup() {
  pg_cluster_stop "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT

pg_cluster_start "$tmp" "strata.data_dir = '$tmp/collections'" || fail "cluster start"
"$strata" gen --quiet --n 3000 --dim $dim --seed 11 --queries $nq --out "$tmp/base.fbin" \
  --queries-out "$tmp/q.fbin"
mkdir "$tmp/collections"
"$strata" ingest --quiet "$tmp/collections/docs" --data "$tmp/base.fbin"  # ids 0..2999
chown -R "$PG_USER" "$tmp/collections"
chmod 644 "$tmp/q.fbin"

psql_() { pg_psql "$@"; }
# fails NEEDLE: stdin must fail with a message containing NEEDLE.
fails() {
  local out
  if out=$(psql_ 2>&1); then fail "expected an error containing '$1', got success: $out"; fi
  grep -qF -- "$1" <<<"$out" || fail "expected an error containing '$1', got: $out"
}
q() { echo "strata_vector(substring(pg_read_binary_file('$tmp/q.fbin') from $((9 + $1 * dim * 4)) for $((dim * 4))))"; }
wait_unlocked() { timeout 30 flock "$tmp/collections/docs/LOCK" true; }

# Session 1: the extension, an ordinary table, writes through SQL.
out=$(psql_ <<SQL
CREATE EXTENSION strata;
SELECT strata_version();
CREATE TABLE docs(id bigint PRIMARY KEY, title text);
INSERT INTO docs SELECT g, 'doc ' || g FROM generate_series(0, 2999) g;
SELECT strata_upsert('docs', 5000, $(q 0));
SELECT id || ' ' || distance FROM strata_search('docs', $(q 0), 1);
SELECT strata_delete('docs', 5000);
SELECT count(*) FROM strata_search('docs', $(q 0), 50) WHERE id = 5000;
BEGIN;
SELECT strata_upsert('docs', 5001, $(q 1));
ROLLBACK;
SELECT id FROM strata_search('docs', $(q 1), 1);
SELECT strata_upsert('docs', ARRAY[6000, 6001]::bigint[],
  ARRAY[(SELECT array_agg(g::real) FROM generate_series(1, $dim) g),
        (SELECT array_agg(-g::real) FROM generate_series(1, $dim) g)]);
SELECT string_agg(id::text, ' ') FROM strata_search('docs', (SELECT array_agg(-g::real) FROM generate_series(1, $dim) g), 1);
SELECT strata_delete('docs', ARRAY(SELECT generate_series(0, 245, 5))::bigint[]);
SELECT dim || ' ' || live FROM strata_stats('docs');
SQL
)
expected=$(printf '%s\n' 0.1.0 "" "5000 0" "" 0 "" 5001 "" 6001 "" "16 2953")
[[ $out == "$expected" ]] || fail "session 1 printed:
$out
expected:
$expected"
echo "postgres: writes, a rolled-back upsert that stays (writes are not transactional), batches: ok"
wait_unlocked

# The reference: strata search over the same collection state (the log holds the SQL writes).
"$strata" search --quiet --index "$tmp/collections/docs" --queries "$tmp/q.fbin" --L 100 --k 10 \
  --out "$tmp/ref.ibin"
od -An -v -t d4 -j 8 "$tmp/ref.ibin" | tr -s ' ' '\n' | sed '/^$/d' >"$tmp/ref.txt"
[[ $(wc -l <"$tmp/ref.txt") -eq $((nq * 10)) ]] || fail "reference holds $(wc -l <"$tmp/ref.txt") ids"

# Session 2: the same queries through SQL, then the join of the issue.
psql_ >"$tmp/sql.txt" <<SQL
$(for i in $(seq 0 $((nq - 1))); do
    echo "SELECT s.id FROM strata_search('docs', $(q $i), 10, 100) WITH ORDINALITY s(id, distance, n) ORDER BY n;"
  done)
SQL
cmp -s "$tmp/ref.txt" "$tmp/sql.txt" || { diff "$tmp/ref.txt" "$tmp/sql.txt" | head; fail "SQL ids differ from strata search"; }
echo "postgres: $nq queries return the ids of strata search ($((nq * 10)) ids)"
join=$(psql_ <<SQL
PREPARE knn(real[]) AS SELECT t.* FROM strata_search('docs', \$1, 10) s JOIN docs t ON t.id = s.id;
EXECUTE knn($(q 3));
SQL
)
expected=$(sed -n '31,40p' "$tmp/ref.txt" | sort -n | awk '{print $1 "|doc " $1}')
[[ $(sort -n <<<"$join") == "$expected" ]] || fail "join printed:
$join
expected:
$expected"
echo "postgres: SELECT t.* FROM strata_search(...) s JOIN docs t ON t.id = s.id: the right 10 rows"
wait_unlocked

# One backend at a time: a second one waits strata.lock_timeout_ms, then lock_not_available.
psql_ -c "SELECT count(*) FROM strata_search('docs', $(q 0), 5)" -c "SELECT pg_sleep(4)" >/dev/null &
holder=$!
sleep 1.5
fails "open through another handle or process" <<SQL
SET strata.lock_timeout_ms = 200;
SELECT * FROM strata_search('docs', $(q 0), 5);
SQL
wait "$holder"
wait_unlocked
# strata.keep_open = off: the handle is closed at the end of each transaction.
psql_ -c "SET strata.keep_open = off" -c "SELECT count(*) FROM strata_search('docs', $(q 0), 5)" \
  -c "SELECT pg_sleep(4)" >/dev/null &
holder=$!
sleep 1.5
out=$(psql_ <<SQL
SET strata.lock_timeout_ms = 200;
SELECT count(*) FROM strata_search('docs', $(q 0), 5);
SELECT strata_close('docs');
SELECT strata_close('docs');
SQL
)
[[ $out == $'5\nt\nf' ]] || fail "keep_open = off: a second backend printed: $out"
wait "$holder"
echo "postgres: one backend per collection (lock_not_available after strata.lock_timeout_ms), keep_open = off: ok"

# Bad input: clear messages.
fails "query dimension 3 does not match" <<<"SELECT * FROM strata_search('docs', ARRAY[1, 2, 3]::real[], 5);"
fails "is not a collection" <<<"SELECT * FROM strata_search('nope', $(q 0), 5);"
fails "must be letters, digits" <<<"SELECT * FROM strata_search('../etc', $(q 0), 5);"
fails "k must be in [1, 1000]" <<<"SELECT * FROM strata_search('docs', $(q 0), 0);"
fails "without NULLs" <<<"SELECT * FROM strata_search('docs', ARRAY[1, NULL]::real[], 5);"
fails "id -4 is negative" <<<"SELECT strata_delete('docs', -4);"
fails "vector has 2 elements" <<<"SELECT strata_upsert('docs', 7, ARRAY[1, 2]::real[]);"
fails "row 0: " <<<"SELECT strata_upsert('docs', 7, array_fill('NaN'::real, ARRAY[$dim]));"
fails "multiple of 4 bytes" <<<"SELECT strata_vector('\\x0102'::bytea);"
fails "metric \"manhattan\"" <<<"SELECT strata_create('fresh', 4, 'manhattan');"
out=$(psql_ <<SQL
SELECT strata_create('fresh', 4, 'cosine');
SELECT strata_upsert('fresh', 1, ARRAY[1, 0, 0, 0]::real[]);
SELECT strata_upsert('fresh', 2, ARRAY[0, 1, 0, 0]::real[]);
SELECT string_agg(id::text, ',') FROM strata_search('fresh', ARRAY[0.1, 2, 0, 0]::real[], 2);
SQL
)
[[ $out == $'\n\n\n2,1' ]] || fail "a collection created from SQL printed: $out"
grep -q "PANIC\|server process .* was terminated" "$tmp/pg.log" && fail "the server log reports a crash"
echo "postgres_test: all checks passed"
