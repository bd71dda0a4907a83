# Sourced by the service scripts (not a service itself: scripts/test runs only scripts/services/*.sh).
#
#   stop_pidfile <pid file> <what, e.g. "broker">
#
# Stops the process whose pid the file holds, if it is alive: SIGTERM, up to 20 s to exit, then SIGKILL; removes the
# pid file. Needs a log function from the sourcing script.
stop_pidfile() {
  local pid_file=$1 what=$2 pid
  if [ ! -f "$pid_file" ]; then
    return
  fi
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping the $what (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "the $what did not stop within 20 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pid_file"
}
