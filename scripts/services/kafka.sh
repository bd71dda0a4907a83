#!/usr/bin/env bash
# A single-node KRaft Kafka broker for the backend-kafka tests (see scripts/services/README.md for the contract).
#
#   scripts/services/kafka.sh start|stop
#
# start: uses a broker already answering on 127.0.0.1:9092; otherwise resolves org.apache.kafka:kafka_2.13 and its
# runtime dependencies with Maven (scripts/services/kafka/pom.xml) into build/kafka/lib, formats a fresh KRaft
# storage directory with `kafka.tools.StorageTool format --standalone`, starts `kafka.Kafka` (broker and controller
# in one process, loopback listeners: broker 127.0.0.1:9092, controller 127.0.0.1:9093, replication factors 1),
# waits until the broker answers and records its pid in build/kafka/kafka.pid (the marker that `stop` looks for).
# stop: kills that pid (TERM, then KILL after 20 s) and removes the marker; does nothing if start did not start it.
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_HEAP (-Xmx512m), KAFKA_WAIT_SECONDS (90).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOME_DIR="$ROOT/build/kafka"
LIB="$HOME_DIR/lib"
PID_FILE="$HOME_DIR/kafka.pid"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
HEAP="${KAFKA_HEAP:--Xmx512m}"
WAIT="${KAFKA_WAIT_SECONDS:-90}"

log() { echo "kafka: $*" >&2; }
# shellcheck source=lib/pidfile.sh
source "$ROOT/scripts/services/lib/pidfile.sh"

answers() {
  # A TCP connect is enough to tell a listening broker; the wait below also checks the broker finished starting.
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

resolve() {
  mkdir -p "$HOME_DIR"
  echo '*' >"$HOME_DIR/.gitignore" # build output, never committed
  if [ -f "$LIB/.complete" ]; then
    return
  fi
  log "resolving kafka_2.13 and its dependencies into $LIB"
  rm -rf "$LIB"
  mvn -B -q --no-transfer-progress -f "$ROOT/scripts/services/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB" >&2
  touch "$LIB/.complete"
}

start() {
  # Resolved even when a broker runs already: KafkaBrokerRestartTest starts brokers of its own from build/kafka/lib.
  resolve
  if answers; then
    # Not ours to stop: this start started nothing, so the marker of an earlier start is dropped.
    log "a broker already answers on 127.0.0.1:$PORT; using it"
    rm -f "$PID_FILE"
    return
  fi
  local data="$HOME_DIR/data" conf="$HOME_DIR/server.properties"
  rm -rf "$data"
  mkdir -p "$data"
  cat >"$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests create groups constantly: start each first rebalance at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
log.retention.hours=2
PROPS
  local cp="$LIB/*"
  log "formatting KRaft storage in $data"
  java -cp "$cp" kafka.tools.StorageTool format --standalone -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null)" \
    -c "$conf" >"$HOME_DIR/format.log" 2>&1 || { cat "$HOME_DIR/format.log" >&2; exit 1; }
  log "starting the broker on 127.0.0.1:$PORT (controller :$CONTROLLER_PORT, log $HOME_DIR/kafka.log)"
  nohup java $HEAP -Xms128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -cp "$cp" kafka.Kafka "$conf" >"$HOME_DIR/kafka.log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local deadline=$((SECONDS + WAIT))
  until answers && grep -q "Kafka Server started" "$HOME_DIR/kafka.log"; do
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      log "the broker exited during start; last lines of $HOME_DIR/kafka.log:"
      tail -n 30 "$HOME_DIR/kafka.log" >&2
      rm -f "$PID_FILE"
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "the broker did not answer within $WAIT s; stopping it. Last lines of $HOME_DIR/kafka.log:"
      tail -n 30 "$HOME_DIR/kafka.log" >&2
      stop
      exit 1
    fi
    sleep 0.5
  done
  log "broker up (pid $(cat "$PID_FILE"))"
}

stop() {
  stop_pidfile "$PID_FILE" broker
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
