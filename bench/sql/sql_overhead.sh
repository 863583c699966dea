#!/usr/bin/env bash
# The overhead of the SQL faces: the same k-NN queries (k = 10, L = 100) on one collection
# through the C API (libstrata.so, one call per query: capi_search_bench), the SQLite virtual
# table (Debian's sqlite3: one statement joining a table of the queries with the virtual table,
# one xFilter per query), and PostgreSQL 15 (one statement with LATERAL strata_search per query
# row, EXPLAIN ANALYZE's execution time; and one statement per query sent by psql over the Unix
# socket, psql's \timing: parse, plan and the client round trip included).
# Two collections: "disk" (N_DISK vectors bulk-loaded into a disk generation: searches read the
# SSD, the realistic case) and "hot" (N_HOT vectors written through the log into the in-RAM hot
# tier: searches are CPU-only, which exposes the faces' own cost). The faces take turns, 3 rounds
# (each face: open, a warm-up pass, a timed pass), so that drift of the shared machine hits all
# of them; the median round is reported, in microseconds per query.
# Usage: bench/sql/sql_overhead.sh BUILD_DIR [N_DISK=100000] [N_HOT=20000] [DIM=128] [NQ=1000]
# Prints a table; appends to BUILD_DIR/bench/sql-overhead.jsonl. Needs root (runs a PostgreSQL
# cluster as strata-pg in a temporary directory, stopped on exit).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
n_disk=${2:-100000}
n_hot=${3:-20000}
dim=${4:-128}
nq=${5:-1000}
k=10
L=100
rounds=3
row=$((dim * 4))
strata=$build/tools/strata
source "$src/scripts/pg_cluster.sh"
"$src/scripts/install_pg_extension.sh" "$build" "$PG_BIN/pg_config" >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata_sqlbench.XXXXXX")
trap 'pg_cluster_stop "$tmp"; rm -rf "$tmp"' EXIT
pg_cluster_start "$tmp" "strata.data_dir = '$tmp/collections'"
mkdir "$tmp/collections"
"$strata" gen --quiet --n "$n_disk" --dim "$dim" --seed 42 --queries "$nq" \
  --out "$tmp/base.fbin" --queries-out "$tmp/q.fbin"
"$strata" ingest --quiet "$tmp/collections/disk" --data "$tmp/base.fbin"
"$strata" gen --quiet --n "$n_hot" --dim "$dim" --seed 42 --out "$tmp/hot.fbin"
"$strata" ingest --quiet --no-bulk --batch 10000 "$tmp/collections/hot" --data "$tmp/hot.fbin"
chown -R "$PG_USER" "$tmp/collections"
chmod 644 "$tmp/q.fbin"

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
unlocked() { timeout 60 flock "$tmp/collections/$1/LOCK" true; }
fail() { echo "sql_overhead: $*" >&2; exit 1; }

sqlite_db() {  # the database of collection $1, with its virtual table and the query table
  local db=$tmp/$1.db
  [[ -f $db ]] && { echo "$db"; return; }
  timeout 600 sqlite3 -bail -batch "$db" >/dev/null <<SQL
.load $build/extensions/sqlite/libstrata_sqlite
CREATE VIRTUAL TABLE v USING strata(dir='$tmp/collections/$1', lock_timeout_ms=60000);
CREATE TABLE qs AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $((nq - 1)))
  SELECT i, substr(readfile('$tmp/q.fbin'), 9 + i * $row, $row) AS q FROM n;
SQL
  echo "$db"
}

pg_setup() {
  pg_psql >/dev/null <<SQL
CREATE EXTENSION strata;
CREATE TABLE qs AS SELECT i, strata_vector(substring(pg_read_binary_file('$tmp/q.fbin')
  from 9 + i * $row for $row)) AS q FROM generate_series(0, $((nq - 1))) i;
SQL
  for c in disk hot; do
    pg_psql -c "SELECT format('SELECT id, distance FROM strata_search(%L, %L::real[], $k, $L);', '$c', q) FROM qs ORDER BY i" \
      >"$tmp/stmts-$c.sql"
  done
}

# One round of collection $1: a line "face us_per_query" per face.
round() {
  local c=$1 out
  unlocked "$c"
  echo "capi $("$build/bench/capi_search_bench" "$tmp/collections/$c" "$tmp/q.fbin" $k $L 1)"
  unlocked "$c"
  local db
  db=$(sqlite_db "$c")
  out=$({
    echo ".load $build/extensions/sqlite/libstrata_sqlite"
    echo ".timer on"
    for _ in 1 2; do
      echo "SELECT count(*) FROM qs, v WHERE v.vector MATCH qs.q AND v.k = $k AND v.search_list = $L;"
    done
  } | timeout 600 sqlite3 -bail -batch "$db")
  [[ $(grep -cx "$((nq * k))" <<<"$out") -eq 2 ]] || fail "sqlite: wrong result count: $out"
  echo "sqlite $(sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p' <<<"$out" | tail -n 1 |
    awk -v nq="$nq" '{printf "%.2f", $1 * 1e6 / nq}')"
  unlocked "$c"
  out=$({
    for _ in 1 2; do
      echo "EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*) FROM qs CROSS JOIN LATERAL strata_search('$c', qs.q, $k, $L) s;"
    done
    echo '\timing on'
    echo "\\i $tmp/stmts-$c.sql"
  } | pg_psql)
  echo "pg_lateral $(sed -n 's/.*Execution Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n 1 |
    awk -v nq="$nq" '{printf "%.2f", $1 * 1e3 / nq}')"
  echo "pg_statement $(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n "$nq" |
    awk -v nq="$nq" '{s += $1} END {printf "%.2f", s * 1e3 / nq}')"
}

pg_setup
: >"$tmp/results"
for r in $(seq 1 $rounds); do
  for c in disk hot; do round "$c" | sed "s/^/$c /" >>"$tmp/results"; done
done
[[ $(grep -c . "$tmp/results") -eq $((rounds * 8)) ]] || { cat "$tmp/results"; fail "missing timings"; }

mkdir -p "$build/bench"
sha=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "# SQL overhead  sha=$sha  disk: $n_disk x $dim (generation)  hot: $n_hot x $dim (hot tier)" \
  " queries=$nq k=$k L=$L  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  " $(date -u +%FT%TZ)"
printf '| face | disk: us/query | over the C API | hot tier: us/query | over the C API |\n'
printf '|---|---|---|---|---|\n'
declare -A name=(
  [capi]="C API (libstrata.so, one call per query)"
  [sqlite]="SQLite virtual table (one statement, xFilter per query)"
  [pg_lateral]="PostgreSQL, LATERAL strata_search (one statement)"
  [pg_statement]="PostgreSQL, one statement per query (psql over the Unix socket)")
for f in capi sqlite pg_lateral pg_statement; do
  line="| ${name[$f]}"
  for c in disk hot; do
    v=$(awk -v c="$c" -v f="$f" '$1 == c && $2 == f {print $3}' "$tmp/results" | median)
    base=$(awk -v c="$c" '$1 == c && $2 == "capi" {print $3}' "$tmp/results" | median)
    line+=$(awk -v v="$v" -v b="$base" -v f="$f" 'BEGIN {
      over = f == "capi" ? "-" : sprintf("%+.1f us (%+.1f%%)", v - b, 100 * (v - b) / b)
      printf " | %.1f | %s", v, over }')
    printf '{"sha": "%s", "collection": "%s", "face": "%s", "dim": %s, "queries": %s, "k": %s, "L": %s, "us_per_query": %s, "rounds": [%s]}\n' \
      "$sha" "$c" "$f" "$dim" "$nq" $k $L "$v" \
      "$(awk -v c="$c" -v f="$f" '$1 == c && $2 == f {print $3}' "$tmp/results" | paste -sd,)" \
      >>"$build/bench/sql-overhead.jsonl"
  done
  echo "$line |"
done
