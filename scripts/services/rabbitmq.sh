#!/usr/bin/env bash
# RabbitMQ for the backend-rabbitmq tests, at 127.0.0.1:5672 (guest/guest). See README.md here for the contract.
#
#   scripts/services/rabbitmq.sh start|stop
#
# start: uses a broker that already answers; otherwise installs Debian's rabbitmq-server if missing, repairs a
# broker process left stopped or hung, starts it detached and waits (up to 120 s) until it answers. stop: stops it
# only if this machine's last start started it. Every call to rabbitmqctl is bounded: against a node that is
# frozen (SIGSTOP) or half dead, rabbitmqctl waits forever, and a CI run once spent its whole budget there.
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

ctl() { timeout "$1" rabbitmqctl "${@:2}"; }

log() { echo "rabbitmq: $*" >&2; }

# The broker's Erlang VM, if one runs (Debian runs it as the rabbitmq user).
broker_pids() { pgrep -u rabbitmq -f 'beam.*rabbit' 2>/dev/null || true; }

show_logs() {
  local f
  for f in /var/log/rabbitmq/startup_err /var/log/rabbitmq/startup_log /var/log/rabbitmq/rabbit@*.log; do
    [ -s "$f" ] || continue
    log "last lines of $f:"
    tail -n 15 "$f" >&2 || true
  done
}

# A broker process that does not answer: first assume it was frozen (a broker-down test's SIGSTOP) and thaw it; if
# it still does not answer, stop it, and kill it if it will not stop, so that a fresh start can take the node name.
repair() {
  local pids
  pids="$(broker_pids)"
  [ -n "$pids" ] || return 0
  log "a broker process runs (pid $(echo $pids)) but does not answer; resuming it in case it was frozen"
  kill -CONT $pids 2>/dev/null || true
  for _ in $(seq 1 20); do
    if answers; then return 0; fi
    sleep 1
  done
  log "it still does not answer; stopping it"
  ctl 30 -q stop >&2 2>&1 || true
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 15); do
    [ -n "$(broker_pids)" ] || return 0
    sleep 1
  done
  log "it did not stop; killing it"
  kill -KILL $(broker_pids) 2>/dev/null || true
  sleep 1
}

# Starts the broker detached, as the rabbitmq user. Debian's wrapper switches user with su, whose PAM session sets
# the open-files limit to 1024; RabbitMQ derives its file-handle budget from that limit (927), a classic queue takes
# about three, and when the budget is spent the broker stops accepting connections (it hangs, it does not refuse).
# setpriv switches user without PAM, so the broker keeps this shell's limit, raised to its hard limit first.
launch() {
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  if command -v setpriv >/dev/null 2>&1 && id rabbitmq >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "starting rabbitmq-server -detached as rabbitmq (open files $(ulimit -n))"
    setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups env HOME=/var/lib/rabbitmq sh -c \
      'cd /var/lib/rabbitmq && exec /usr/lib/rabbitmq/bin/rabbitmq-server -detached' >&2 \
      || log "rabbitmq-server -detached returned $?"
  else
    log "starting rabbitmq-server -detached"
    rabbitmq-server -detached >&2 || log "rabbitmq-server -detached returned $?"
  fi
}

# The broker's file-handle budget, for the log: a broker near its budget is about to stop accepting connections.
budget() {
  ctl 20 eval 'file_handle_cache:info([total_used,total_limit]).' 2>/dev/null | tr -d '\n' || true
}

start() {
  if answers; then
    log "already answering on $HOST:$PORT, using it (file handles $(budget))"
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
    repair
  fi
  if answers; then
    log "answering on $HOST:$PORT (after repair)"
    rm -f "$MARKER"
    return 0
  fi
  launch
  mkdir -p "$(dirname "$MARKER")"
  touch "$MARKER"
  for _ in $(seq 1 120); do
    if answers && ctl 15 -q status >/dev/null 2>&1; then
      log "answering on $HOST:$PORT"
      return 0
    fi
    sleep 1
  done
  log "did not answer on $HOST:$PORT within 120 s"
  show_logs
  exit 1
}

stop() {
  if [ ! -e "$MARKER" ]; then
    return 0
  fi
  rm -f "$MARKER"
  log "stopping the broker this machine's last start started"
  ctl 60 -q stop >&2 || log "rabbitmqctl stop failed or timed out"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
