#!/usr/bin/env bash
# Redis for the backend-redis tests, at 127.0.0.1:6379. See README.md here for the contract.
#
#   scripts/services/redis.sh start|stop
#
# start: uses a Redis that already answers PING; otherwise installs Debian's redis-server if missing and starts one
# on loopback that keeps nothing on disk (no RDB, no AOF), daemonized with a pid file under build/, and waits (up to
# 30 s) until it answers. stop: stops it, by that pid, only if this machine's last start started it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/build/services"
MARKER="$DIR/redis.started"
PIDFILE="$DIR/redis.pid"
HOST=127.0.0.1
PORT=6379

answers() {
  # RESP: an inline PING is answered with +PONG.
  timeout 5 bash -c "exec 3<>/dev/tcp/$HOST/$PORT && printf 'PING\r\n' >&3 && head -c 5 <&3" 2>/dev/null \
    | grep -q PONG
}

log() { echo "redis: $*" >&2; }

start() {
  if answers; then
    log "already answering on $HOST:$PORT, using it"
    rm -f "$MARKER"
    return 0
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing Debian's redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq redis-server >&2
  fi
  # The Debian package may have started its own service while installing.
  if ! answers; then
    mkdir -p "$DIR"
    log "starting redis-server on $HOST:$PORT (nothing kept on disk)"
    redis-server --bind "$HOST" --port "$PORT" --save '' --appendonly no --daemonize yes \
      --pidfile "$PIDFILE" --logfile "$DIR/redis.log" --dir "$DIR" >&2
    touch "$MARKER"
  fi
  for _ in $(seq 1 30); do
    if answers; then
      log "answering on $HOST:$PORT"
      return 0
    fi
    sleep 1
  done
  log "did not answer on $HOST:$PORT within 30 s (log: $DIR/redis.log)"
  exit 1
}

stop() {
  if [ ! -e "$MARKER" ]; then
    return 0
  fi
  rm -f "$MARKER"
  if [ -s "$PIDFILE" ]; then
    log "stopping the redis-server this machine's last start started (pid $(cat "$PIDFILE"))"
    kill "$(cat "$PIDFILE")" 2>/dev/null || log "it had already stopped"
    rm -f "$PIDFILE"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
