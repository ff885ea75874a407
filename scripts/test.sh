#!/usr/bin/env bash
# scripts/test.sh — `npm test`: the whole test suite on a fresh machine, with its own set-up.
#   1. installs the missing Debian packages (scripts/install-test-deps.sh: dcmtk, Orthanc, Chromium, …)
#   2. runs `npm ci` when node_modules/ is missing
#   3. starts Orthanc and a local EVM node (hardhat) on 127.0.0.1 from a temporary directory, unless
#      the environment already names them (RADLEDGER_TEST_ORTHANC_URL, RADLEDGER_TEST_EVM_RPC_URL — as
#      .ci/run does); RADLEDGER_TEST_SERVICES=none leaves them to the tests, which then start private ones
#   4. runs vitest with the arguments given (`npm test -- test/e2e` runs one folder)
#   5. stops what it started, by PID, also on Ctrl-C, and exits with vitest's status
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/install-test-deps.sh" || exit 1
if [ ! -d node_modules ]; then
  echo "test: node_modules/ is missing, running npm ci" >&2
  npm ci --no-audit --no-fund || exit 1
fi

STATE=""
cleanup() {
  [ -n "$STATE" ] || return 0
  for pidfile in "$STATE"/*/pid; do
    [ -f "$pidfile" ] && "$ROOT/scripts/services/stop.sh" "$(dirname "$pidfile")" >/dev/null 2>&1
  done
  rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_service() {
  local name=$1; shift
  [ -n "$STATE" ] || STATE=$(mktemp -d "${TMPDIR:-/tmp}/radledger-test-services.XXXXXX")
  echo "test: starting $name on 127.0.0.1 ($STATE/$name)" >&2
  if "$ROOT/scripts/services/$name.sh" "$@" "$STATE/$name" >"$STATE/$name.out" 2>&1; then
    set -a; . "$STATE/$name/env"; set +a
  else
    # The tests start a private one when the variables are absent; say why this one failed.
    echo "test: could not start $name (the tests will start their own):" >&2
    tail -5 "$STATE/$name.out" >&2
  fi
}
if [ "${RADLEDGER_TEST_SERVICES:-}" != "none" ]; then
  [ -n "${RADLEDGER_TEST_ORTHANC_URL:-}" ] || start_service orthanc --no-install
  [ -n "${RADLEDGER_TEST_EVM_RPC_URL:-}" ] || start_service hardhat
fi

"$ROOT/node_modules/.bin/vitest" run "$@"
