#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on loopback, for tests and benchmarks.
#   scripts/postgres.sh start    # installs PostgreSQL (Debian packages) if absent, starts a cluster
#   scripts/postgres.sh url      # prints its URL: postgres://premia@127.0.0.1:<port>/premia
#   scripts/postgres.sh status   # exit 0 when it runs
#   scripts/postgres.sh stop     # stops it and deletes its files
# Settings (environment): PREMIA_PG_PORT (default 5433), PREMIA_PG_DIR
# (default /tmp/premia-postgres-<port>). fsync stays on: commits are durable,
# as in production. PostgreSQL refuses to run as root: as root the cluster
# runs as the `postgres` user (created by the Debian package), otherwise as
# the calling user.
set -euo pipefail
port="${PREMIA_PG_PORT:-5433}"
dir="${PREMIA_PG_DIR:-/tmp/premia-postgres-$port}"
data="$dir/data"
log="$dir/postgres.log"

bindir() {
  local found=""
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    found="$(pg_config --bindir)"
  else
    for candidate in /usr/lib/postgresql/*/bin; do
      [ -x "$candidate/initdb" ] && found="$candidate"
    done
  fi
  echo "$found"
}

install_postgres() {
  [ -n "$(bindir)" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "postgres.sh: PostgreSQL is not installed; run as root or: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "postgres.sh: installing PostgreSQL from the Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y --no-install-recommends postgresql ||
    (apt-get update && apt-get install -y --no-install-recommends postgresql)) >/dev/null
  [ -n "$(bindir)" ] || { echo "postgres.sh: no initdb after installing postgresql" >&2; exit 1; }
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

url() {
  echo "postgres://premia@127.0.0.1:$port/premia"
}

running() {
  local bin
  bin="$(bindir)"
  [ -n "$bin" ] && [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
  install_postgres
  local bin
  bin="$(bindir)"
  if running; then
    url
    return 0
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    as_owner true # creates the user if needed
    chown postgres "$dir"
  fi
  as_owner "$bin/initdb" -D "$data" -U premia --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=300" \
    start >/dev/null || { cat "$log" >&2; exit 1; }
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U premia premia
  url
}

stop() {
  local bin
  bin="$(bindir)"
  if [ -n "$bin" ] && [ -f "$data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  status) running ;;
  *)
    echo "usage: $0 start|stop|url|status" >&2
    exit 2
    ;;
esac
