#!/usr/bin/env bash
# PostgreSQL for the backend-postgres tests, at 127.0.0.1:5432: user postgres without a password (trust for local
# TCP), database `test`. See README.md here for the contract.
#
#   scripts/services/postgres.sh start|stop
#
# start: uses a server that already answers on 127.0.0.1:5432; otherwise starts the Debian cluster `main` of the
# installed version (pg_ctlcluster), installing Debian's postgresql first if there is none, and lets local TCP
# connections of the user postgres in without a password (a line at the top of that cluster's pg_hba.conf, added once).
# Either way it waits (up to 60 s) until the server answers, then creates the database `test` if missing.
# stop: stops the cluster only if this machine's last start started it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/build/services"
MARKER="$DIR/postgres.started"
HOST=127.0.0.1
PORT=5432
export PATH="$PATH:/usr/sbin:/sbin"

log() { echo "postgres: $*" >&2; }

answers() {
  command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$HOST" -p "$PORT" -t 3
}

version() {
  ls /etc/postgresql 2>/dev/null | sort -n | tail -1
}

trust_local_tcp() {
  local hba="/etc/postgresql/$1/main/pg_hba.conf" line="host all postgres 127.0.0.1/32 trust # polybus tests"
  if [ -f "$hba" ] && ! grep -qF "$line" "$hba"; then
    log "letting local TCP connections of postgres in without a password ($hba)"
    sed -i "1i $line" "$hba"
  fi
}

start() {
  mkdir -p "$DIR"
  if answers; then
    log "already answering on $HOST:$PORT, using it"
    rm -f "$MARKER"
  else
    if [ -z "$(version)" ]; then
      log "installing Debian's postgresql"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
    fi
    local v
    v="$(version)"
    trust_local_tcp "$v"
    # The Debian package may have started its own cluster while installing.
    if ! answers; then
      log "starting cluster $v/main"
      pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2
      touch "$MARKER"
    else
      pg_ctlcluster --skip-systemctl-redirect "$v" main reload >&2 || true
    fi
  fi
  for _ in $(seq 1 60); do
    if answers; then
      break
    fi
    sleep 1
  done
  if ! answers; then
    log "did not answer on $HOST:$PORT within 60 s (see /var/log/postgresql/)"
    exit 1
  fi
  if ! psql -h "$HOST" -p "$PORT" -U postgres -d postgres -Atqc "SELECT 1" -w >/dev/null 2>&1; then
    log "answering on $HOST:$PORT, but the user postgres cannot log in without a password; the tests need trust"
    log "for host 127.0.0.1/32 in pg_hba.conf"
    exit 1
  fi
  if [ -z "$(psql -h "$HOST" -p "$PORT" -U postgres -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'" -w)" ]; then
    log "creating the database test"
    psql -h "$HOST" -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE test" -w >&2
  fi
  log "answering on $HOST:$PORT (database test)"
}

stop() {
  if [ ! -e "$MARKER" ]; then
    return 0
  fi
  rm -f "$MARKER"
  local v
  v="$(version)"
  log "stopping cluster $v/main, which this machine's last start started"
  pg_ctlcluster --skip-systemctl-redirect "$v" main stop >&2 || log "it had already stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
