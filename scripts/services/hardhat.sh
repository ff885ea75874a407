#!/usr/bin/env bash
# Starts a local Hardhat 2 JSON-RPC node (automine, chain id 31337, Hardhat's public well-known
# dev accounts) on 127.0.0.1 at a free random port, for the EVM anchoring tests and benchmark.
#
#   scripts/services/hardhat.sh DIR    start; writes DIR/pid, DIR/env, DIR/hardhat.log; exits 0
#   scripts/services/stop.sh DIR       stop it
#
# DIR/env holds RADLEDGER_TEST_EVM_RPC_URL=http://127.0.0.1:PORT (source it, or read it).
# Set RADLEDGER_HARDHAT_LOGGING=1 to have Hardhat log every request into DIR/hardhat.log.
set -euo pipefail

dir=${1:?usage: hardhat.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cli="$root/node_modules/hardhat/internal/cli/cli.js"
config="$root/test/services/hardhat/hardhat.config.cjs"
[ -f "$cli" ] || { echo "hardhat.sh: hardhat is not installed (run npm ci in $root)" >&2; exit 1; }

# Asks the kernel for a free port (bind to port 0), then releases it for Hardhat. Another process
# could take it in between, so a failed start is retried on a new port.
free_port() {
  node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close();});'
}

# Exits 0 once eth_chainId answers at $1.
chain_id_answers() {
  node -e '
    fetch(process.argv[1], { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(2000) })
      .then((r) => r.json()).then((j) => process.exit(typeof j.result === "string" ? 0 : 1))
      .catch(() => process.exit(1));' "$1"
}

for attempt in 1 2 3 4 5; do
  port=$(free_port)
  url="http://127.0.0.1:$port"
  # Hardhat insists on running from the project that installed it, hence the cd. setsid: the
  # node outlives this script and is not hit by signals sent to the caller's process group.
  # exec + setsid (which execs too) keep one process, so $! is the node itself: DIR/pid.
  (
    cd "$root" &&
      RADLEDGER_HARDHAT_DIR="$dir" HARDHAT_DISABLE_TELEMETRY_PROMPT=true \
        exec setsid node "$cli" --config "$config" node --hostname 127.0.0.1 --port "$port"
  ) >"$dir/hardhat.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/pid"
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    if chain_id_answers "$url"; then
      echo "RADLEDGER_TEST_EVM_RPC_URL=$url" >"$dir/env"
      echo "hardhat node running at $url (pid $pid)"
      exit 0
    fi
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
  echo "hardhat.sh: attempt $attempt on port $port failed; log tail:" >&2
  tail -n 20 "$dir/hardhat.log" >&2 || true
  # Only a port taken between free_port and the bind is worth another try.
  grep -q EADDRINUSE "$dir/hardhat.log" || break
done
echo "hardhat.sh: could not start a hardhat node" >&2
exit 1
