#!/usr/bin/env bash
# ElasticMQ, an SQS-compatible queue server, for the backend-sqs tests (see scripts/services/README.md for the contract).
#
#   scripts/services/elasticmq.sh start|stop
#
# start: uses a server already answering on 127.0.0.1:9324; otherwise resolves org.elasticmq:elasticmq-server_2.13 and
# its runtime dependencies with Maven (scripts/services/elasticmq/pom.xml) into build/elasticmq/lib, writes a config
# binding only 127.0.0.1 (queues in memory, the statistics endpoint off), starts org.elasticmq.server.Main, waits until
# it answers an SQS call and records its pid in build/elasticmq/elasticmq.pid (the marker that `stop` looks for).
# stop: kills that pid (TERM, then KILL after 20 s) and removes the marker; does nothing if start did not start it.
#
# The library is resolved even when a server runs already: SqsEndpointDownTest starts a private ElasticMQ of its own
# from build/elasticmq/lib on another port.
#
# Environment: ELASTICMQ_PORT (9324), ELASTICMQ_HEAP (-Xmx384m), ELASTICMQ_WAIT_SECONDS (90).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOME_DIR="$ROOT/build/elasticmq"
LIB="$HOME_DIR/lib"
PID_FILE="$HOME_DIR/elasticmq.pid"
PORT="${ELASTICMQ_PORT:-9324}"
HEAP="${ELASTICMQ_HEAP:--Xmx384m}"
WAIT="${ELASTICMQ_WAIT_SECONDS:-90}"

log() { echo "elasticmq: $*" >&2; }
# shellcheck source=lib/pidfile.sh
source "$ROOT/scripts/services/lib/pidfile.sh"

answers() {
  # A real SQS call (the JSON protocol's ListQueues), not just an open port: the server is ready once it answers.
  timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && printf '%s' \"\$0\" >&3 && head -c 12 <&3" "$(printf \
'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.ListQueues\r\nAuthorization: AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}')" \
    2>/dev/null | grep -q 'HTTP/1.1 200'
}

resolve() {
  mkdir -p "$HOME_DIR"
  echo '*' >"$HOME_DIR/.gitignore" # build output, never committed
  if [ -f "$LIB/.complete" ]; then
    return
  fi
  log "resolving elasticmq-server_2.13 and its dependencies into $LIB"
  rm -rf "$LIB"
  mvn -B -q --no-transfer-progress -f "$ROOT/scripts/services/elasticmq/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB" >&2
  touch "$LIB/.complete"
}

# Writes an ElasticMQ config for a server on 127.0.0.1:<port> to <file>. Used by the tests' private server too.
write_conf() {
  local port="$1" file="$2"
  cat >"$file" <<CONF
include classpath("application.conf")

node-address {
  protocol = http
  host = 127.0.0.1
  port = $port
  context-path = ""
}
rest-sqs {
  enabled = true
  bind-port = $port
  bind-hostname = "127.0.0.1"
  sqs-limits = strict
}
rest-stats {
  enabled = false
}
aws {
  region = us-east-1
  accountId = 000000000000
}
CONF
}

start() {
  resolve
  if answers; then
    # Not ours to stop: this start started nothing, so the marker of an earlier start is dropped.
    log "a server already answers on 127.0.0.1:$PORT; using it"
    rm -f "$PID_FILE"
    return
  fi
  local conf="$HOME_DIR/elasticmq.conf"
  write_conf "$PORT" "$conf"
  log "starting ElasticMQ on 127.0.0.1:$PORT (log $HOME_DIR/elasticmq.log)"
  nohup java $HEAP -Xms64m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dconfig.file="$conf" -cp "$LIB/*" org.elasticmq.server.Main >"$HOME_DIR/elasticmq.log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local deadline=$((SECONDS + WAIT))
  until answers; do
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      log "the server exited during start; last lines of $HOME_DIR/elasticmq.log:"
      tail -n 30 "$HOME_DIR/elasticmq.log" >&2
      rm -f "$PID_FILE"
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "the server did not answer within $WAIT s; stopping it. Last lines of $HOME_DIR/elasticmq.log:"
      tail -n 30 "$HOME_DIR/elasticmq.log" >&2
      stop
      exit 1
    fi
    sleep 0.5
  done
  log "server up (pid $(cat "$PID_FILE"))"
}

stop() {
  stop_pidfile "$PID_FILE" server
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
