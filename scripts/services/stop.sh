#!/usr/bin/env bash
# scripts/services/stop.sh — stop a service started by one of the scripts in scripts/services/.
#
# Usage: scripts/services/stop.sh [--timeout N] DIR
#
#   DIR            the directory given to the start script; DIR/pid holds the PID.
#   --timeout N    seconds to wait after SIGTERM before sending SIGKILL (default 20)
#
# Sends SIGTERM to the PID in DIR/pid, waits (bounded) for it to exit, then SIGKILL.
# If DIR/cmdline-match exists, the PID is signalled only if /proc/PID/cmdline contains that
# string, so a stale pid file never kills an unrelated process that reused the PID.
# Removes DIR/pid and DIR/env afterwards. Exits 0 if the service is gone (or was not running).
set -euo pipefail

TIMEOUT=20
DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) TIMEOUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "stop.sh: unknown option $1" >&2; exit 2 ;;
    *) DIR="$1"; shift ;;
  esac
done
[ -n "$DIR" ] || { echo "usage: stop.sh [--timeout N] DIR" >&2; exit 2; }
[ -f "$DIR/pid" ] || { echo "stop.sh: no $DIR/pid, nothing to stop" >&2; exit 0; }
PID="$(tr -dc '0-9' <"$DIR/pid")"
[ -n "$PID" ] || { echo "stop.sh: $DIR/pid is empty" >&2; exit 1; }

alive() {
  # A zombie (state Z) has exited: once the starting shell is gone, the service is reaped by
  # whatever PID 1 is, which may be slow or absent in a container.
  [ -d "/proc/$1" ] || return 1
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo X)"
  [ "$state" != "Z" ] && [ "$state" != "X" ]
}

if alive "$PID"; then
  if [ -f "$DIR/cmdline-match" ]; then
    want="$(cat "$DIR/cmdline-match")"
    if ! tr '\0' ' ' <"/proc/$PID/cmdline" | grep -qF -- "$want"; then
      echo "stop.sh: PID $PID does not look like the service in $DIR; not killing it" >&2
      rm -f "$DIR/pid" "$DIR/env"
      exit 0
    fi
  fi
  kill -TERM "$PID" 2>/dev/null || true
  deadline=$(( $(date +%s) + TIMEOUT ))
  while alive "$PID" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
  if alive "$PID"; then
    echo "stop.sh: PID $PID ignored SIGTERM for ${TIMEOUT}s, sending SIGKILL" >&2
    kill -KILL "$PID" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$PID" || break; sleep 0.1; done
  fi
fi
if alive "$PID"; then echo "stop.sh: PID $PID still alive" >&2; exit 1; fi
rm -f "$DIR/pid" "$DIR/env"
