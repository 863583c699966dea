# Sourced by tests/sql/postgres_test.sh and bench/sql/sql_overhead.sh: a throwaway PostgreSQL 15
# cluster run as a non-root user, reachable only on a Unix socket in a temporary directory.
#   pg_cluster_start TMPDIR [postgresql.conf lines...]   (needs root; sets PG_SOCK)
#   pg_cluster_stop TMPDIR                              (safe to call twice; call it in a trap)
#   pg_psql ARGS...                                     (psql as postgres over PG_SOCK)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=${PG_USER:-strata-pg}

pg_as_user() { runuser -u "$PG_USER" -- "$@"; }

pg_cluster_start() {
  local tmp=$1
  shift
  [[ -x $PG_BIN/initdb ]] || { echo "PostgreSQL 15 is not installed (scripts/setup.sh)" >&2; return 1; }
  [[ $(id -u) -eq 0 ]] || { echo "run as root: the cluster runs as $PG_USER" >&2; return 1; }
  id -u "$PG_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
  chmod 755 "$tmp"
  mkdir -p "$tmp/sock" "$tmp/pgdata"
  touch "$tmp/pg.log"
  chown "$PG_USER" "$tmp/sock" "$tmp/pgdata" "$tmp/pg.log"
  chmod 700 "$tmp/pgdata"
  pg_as_user "$PG_BIN/initdb" -D "$tmp/pgdata" -U postgres --auth=trust -E UTF8 --no-sync \
    >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; return 1; }
  {
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$tmp/sock'"
    echo "fsync = off"
    local line
    for line in "$@"; do echo "$line"; done
  } >>"$tmp/pgdata/postgresql.conf"
  pg_as_user "$PG_BIN/pg_ctl" -D "$tmp/pgdata" -l "$tmp/pg.log" -w -t 60 start >/dev/null ||
    { cat "$tmp/pg.log" >&2; return 1; }
  PG_SOCK=$tmp/sock
}

pg_cluster_stop() {
  local tmp=$1
  if [[ -f $tmp/pgdata/postmaster.pid ]]; then
    pg_as_user "$PG_BIN/pg_ctl" -D "$tmp/pgdata" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

pg_psql() { timeout 600 psql -h "$PG_SOCK" -U postgres -d postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
