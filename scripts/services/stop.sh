#!/usr/bin/env bash
# Stops a service started by scripts/services/<name>.sh DIR: TERM the PID in DIR/pid, then KILL
# after a bounded wait.
set -u
dir=${1:?usage: stop.sh DIR}
[ -f "$dir/pid" ] || exit 0
pid=$(cat "$dir/pid")
kill -TERM "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 50); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; exit 0; }
  sleep 0.1
done
kill -KILL "$pid" 2>/dev/null || true
rm -f "$dir/pid"
