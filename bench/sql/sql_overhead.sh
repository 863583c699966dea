#!/usr/bin/env bash
# The overhead of the SQL faces: the same k-NN queries (k = 10, L = 100) on one collection
# through the C API (libstrata.so, one call per query, capi_search_bench), the SQLite virtual
# table (Debian's sqlite3: one statement joining a table of the queries with the virtual table,
# one xFilter per query), and PostgreSQL 15 (one statement with LATERAL strata_search per query
# row, EXPLAIN ANALYZE's execution time; and one statement per query sent by psql over the Unix
# socket, psql's \timing: parse, plan and the client round trip included). Each face: a warm-up
# pass, then 3 timed passes; the median pass is reported, in microseconds per query.
# Usage: bench/sql/sql_overhead.sh BUILD_DIR [N=100000] [DIM=128] [NQ=1000]
# Prints a table; writes BUILD_DIR/bench/sql-overhead.jsonl. Needs root (runs a PostgreSQL
# cluster as strata-pg in a temporary directory, stopped on exit).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
n=${2:-100000}
dim=${3:-128}
nq=${4:-1000}
k=10
L=100
runs=3
strata=$build/tools/strata
source "$src/scripts/pg_cluster.sh"
"$src/scripts/install_pg_extension.sh" "$build" "$PG_BIN/pg_config" >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata_sqlbench.XXXXXX")
trap 'pg_cluster_stop "$tmp"; rm -rf "$tmp"' EXIT
pg_cluster_start "$tmp" "strata.data_dir = '$tmp/collections'"

"$strata" gen --quiet --n "$n" --dim "$dim" --seed 42 --queries "$nq" --out "$tmp/base.fbin" \
  --queries-out "$tmp/q.fbin"
mkdir "$tmp/collections"
"$strata" ingest --quiet "$tmp/collections/docs" --data "$tmp/base.fbin"
chown -R "$PG_USER" "$tmp/collections"
chmod 644 "$tmp/q.fbin"
col=$tmp/collections/docs
row=$((dim * 4))

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
per_query() { awk -v nq="$nq" -v scale="$1" '{printf "%.2f\n", $1 * scale / nq}'; }

# C API.
capi=$("$build/bench/capi_search_bench" "$col" "$tmp/q.fbin" $k $L $runs | median)

# SQLite: the first pass is the warm-up.
{
  echo ".load $build/extensions/sqlite/libstrata_sqlite"
  echo "CREATE VIRTUAL TABLE v USING strata(dir='$col');"
  echo "CREATE TABLE qs AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $((nq - 1)))"
  echo "  SELECT i, substr(readfile('$tmp/q.fbin'), 9 + i * $row, $row) AS q FROM n;"
  echo ".timer on"
  for _ in $(seq 0 $runs); do
    echo "SELECT count(*) FROM qs, v WHERE v.vector MATCH qs.q AND v.k = $k AND v.search_list = $L;"
  done
} | timeout 1200 sqlite3 -bail -batch "$tmp/bench.db" >"$tmp/sqlite.out"
[[ $(grep -cx "$((nq * k))" "$tmp/sqlite.out") -eq $((runs + 1)) ]] ||
  { cat "$tmp/sqlite.out"; echo "sqlite: wrong result count" >&2; exit 1; }
sqlite=$(sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p' "$tmp/sqlite.out" | tail -n $runs |
  per_query 1000000 | median)

# PostgreSQL: one statement over the query table, then one statement per query.
pg_psql <<SQL
CREATE EXTENSION strata;
CREATE TABLE qs AS SELECT i, strata_vector(substring(pg_read_binary_file('$tmp/q.fbin')
  from 9 + i * $row for $row)) AS q FROM generate_series(0, $((nq - 1))) i;
SQL
pg_psql -c "SELECT format('SELECT id, distance FROM strata_search(%L, %L::real[], $k, $L);', 'docs', q) FROM qs ORDER BY i" \
  >"$tmp/stmts.sql"
{
  for _ in $(seq 0 $runs); do
    echo "EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*) FROM qs CROSS JOIN LATERAL strata_search('docs', qs.q, $k, $L) s;"
  done
  echo '\timing on'
  for _ in $(seq 0 $runs); do echo "\\i $tmp/stmts.sql"; done
} | pg_psql >"$tmp/pg.out"
pg_stmt=$(sed -n 's/.*Execution Time: \([0-9.]*\) ms.*/\1/p' "$tmp/pg.out" | tail -n $runs |
  per_query 1000 | median)
pg_rt=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$tmp/pg.out" | tail -n $((runs * nq)) |
  awk -v nq="$nq" '{s += $1} NR % nq == 0 {printf "%.2f\n", s * 1000 / nq; s = 0}' | median)
[[ -n $pg_stmt && -n $pg_rt ]] || { cat "$tmp/pg.out" | head -20; echo "postgres: no timings" >&2; exit 1; }

mkdir -p "$build/bench"
sha=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "# SQL overhead  sha=$sha  n=$n dim=$dim queries=$nq k=$k L=$L  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)  $(date -u +%FT%TZ)"
printf '| face | us/query (median of %d) | over the C API |\n|---|---|---|\n' $runs
row_out() {
  awk -v name="$1" -v v="$2" -v base="$capi" 'BEGIN {
    d = v - base; printf "| %s | %.1f | %s |\n", name, v, name ~ /^C API/ ? "-" :
      sprintf("%+.1f us (%+.1f%%)", d, 100 * d / base) }'
  printf '{"sha": "%s", "face": "%s", "n": %s, "dim": %s, "queries": %s, "k": %s, "L": %s, "us_per_query": %s}\n' \
    "$sha" "$1" "$n" "$dim" "$nq" $k $L "$2" >>"$build/bench/sql-overhead.jsonl"
}
row_out "C API (libstrata.so, one call per query)" "$capi"
row_out "SQLite virtual table (one statement, xFilter per query)" "$sqlite"
row_out "PostgreSQL, LATERAL strata_search (one statement)" "$pg_stmt"
row_out "PostgreSQL, one statement per query (psql over the Unix socket)" "$pg_rt"
