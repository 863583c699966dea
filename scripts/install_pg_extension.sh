#!/usr/bin/env bash
# Installs the PostgreSQL extension built in BUILD_DIR/postgres (strata.so, strata.control,
# strata--0.1.sql) into the server's directories (pkglibdir and sharedir/extension of pg_config;
# PostgreSQL 15 loads extensions only from there). Idempotent; needs write access (root).
# Usage: scripts/install_pg_extension.sh [BUILD_DIR] [PG_CONFIG]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
pg_config=${2:-/usr/lib/postgresql/15/bin/pg_config}
[[ -x $pg_config ]] || pg_config=$(command -v pg_config)
src=$build/postgres
for f in strata.so strata.control strata--0.1.sql; do
  [[ -f $src/$f ]] || { echo "install_pg_extension: $src/$f missing (build target strata_pg)"; exit 1; }
done
libdir=$("$pg_config" --pkglibdir)
extdir=$("$pg_config" --sharedir)/extension
install -m 0755 "$src/strata.so" "$libdir/strata.so"
install -m 0644 "$src/strata.control" "$src/strata--0.1.sql" "$extdir/"
echo "installed strata.so into $libdir, strata.control and strata--0.1.sql into $extdir"
