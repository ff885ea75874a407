#!/usr/bin/env bash
# Stops a test service started by scripts/services/<service>.sh DIR: sends TERM to the PID in
# DIR/pid, then KILL if it is still alive after 10 seconds. Does nothing if DIR/pid is absent.
set -euo pipefail

dir=${1:?usage: stop.sh DIR}
[ -f "$dir/pid" ] || exit 0
pid=$(cat "$dir/pid")
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -KILL "$pid" 2>/dev/null || true
rm -f "$dir/pid"
