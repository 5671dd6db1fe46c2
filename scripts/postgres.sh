# A throw-away PostgreSQL for the tests: the Debian package's server, a fresh data directory
# under /tmp, loopback only, trust authentication for one role. Sourced, not run:
#   source scripts/postgres.sh; start_test_postgres   # exports LIVEGATE_TEST_DATABASE_URL
#   stop_test_postgres                                 # stops it and deletes its data

_pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n "$dir" && -x "$dir/initdb" ]] || { echo "PostgreSQL server binaries not found (Debian package postgresql)" >&2; return 1; }
  echo "$dir"
}

# initdb refuses to run as root: as root, the cluster belongs to the package's postgres user.
_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_test_postgres() {
  local bin port
  bin=$(_pg_bin) || return 1
  LIVEGATE_PG_DIR=$(mktemp -d /tmp/livegate-pg.XXXXXX)
  export LIVEGATE_PG_DIR
  [[ $(id -u) -eq 0 ]] && chown postgres "$LIVEGATE_PG_DIR"
  # A free loopback port, chosen by the kernel.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  _as_pg "$bin/initdb" -D "$LIVEGATE_PG_DIR/data" -U livegate --auth=trust -E UTF8 >/dev/null
  # fsync off: the data is thrown away after the run, and the tests create many databases.
  _as_pg "$bin/pg_ctl" -D "$LIVEGATE_PG_DIR/data" -l "$LIVEGATE_PG_DIR/server.log" -w \
    -o "-p $port -k $LIVEGATE_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
    start >/dev/null
  export LIVEGATE_TEST_DATABASE_URL="postgres://livegate@127.0.0.1:$port/postgres"
  echo "test PostgreSQL on 127.0.0.1:$port ($LIVEGATE_PG_DIR)" >&2
}

stop_test_postgres() {
  [[ -n "${LIVEGATE_PG_DIR:-}" && -d "$LIVEGATE_PG_DIR" ]] || return 0
  local bin
  bin=$(_pg_bin) || return 0
  _as_pg "$bin/pg_ctl" -D "$LIVEGATE_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$LIVEGATE_PG_DIR"
  unset LIVEGATE_PG_DIR LIVEGATE_TEST_DATABASE_URL
}
