#!/usr/bin/env bash
# RabbitMQ for the backend-rabbitmq tests, at 127.0.0.1:5672 (guest/guest). See README.md here for the contract.
#
#   scripts/services/rabbitmq.sh start|stop
#
# start: uses a broker that already answers; otherwise installs Debian's rabbitmq-server if missing, starts it
# detached and waits (up to 120 s) until it answers. stop: stops it only if this machine's last start started it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MARKER="$ROOT/build/services/rabbitmq.started"
HOST=127.0.0.1
PORT=5672
# Debian installs rabbitmq-server and rabbitmqctl in /usr/sbin, which a non-login PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

answers() {
  # An AMQP server answers a bad protocol header (8 bytes) by sending its own ("AMQP" + version) and closing.
  timeout 5 bash -c "exec 3<>/dev/tcp/$HOST/$PORT && printf 'HELLO-01' >&3 && head -c 4 <&3" 2>/dev/null | grep -q AMQP
}

log() { echo "rabbitmq: $*" >&2; }

start() {
  if answers; then
    log "already answering on $HOST:$PORT, using it"
    rm -f "$MARKER"
    return 0
  fi
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    log "installing Debian's rabbitmq-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq rabbitmq-server >&2
  fi
  # The Debian package may have started it through its init script while installing.
  if ! answers; then
    log "starting rabbitmq-server -detached"
    rabbitmq-server -detached >&2
  fi
  mkdir -p "$(dirname "$MARKER")"
  touch "$MARKER"
  for _ in $(seq 1 120); do
    if answers && rabbitmqctl -q status >/dev/null 2>&1; then
      log "answering on $HOST:$PORT"
      return 0
    fi
    sleep 1
  done
  log "did not answer on $HOST:$PORT within 120 s"
  exit 1
}

stop() {
  if [ ! -e "$MARKER" ]; then
    return 0
  fi
  rm -f "$MARKER"
  log "stopping the broker this machine's last start started"
  rabbitmqctl -q stop >&2 || log "rabbitmqctl stop failed"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
