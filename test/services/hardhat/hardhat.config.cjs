// Minimal Hardhat 2 configuration for the local JSON-RPC test node started by
// scripts/services/hardhat.sh. Hardhat compiles nothing here: the contracts are compiled by
// scripts/compile-contracts.mjs with solc-js and deployed by the tests through viem.
// The accounts are Hardhat's public, well-known development accounts (mnemonic
// "test test ... junk"): test-only, never real keys.
"use strict";
// eslint-disable-next-line @typescript-eslint/no-require-imports -- Hardhat 2 loads its config as CommonJS
const path = require("node:path");

// Hardhat wants writable cache/artifacts folders; keep them in the service's DIR, not the repo.
const dir = process.env.RADLEDGER_HARDHAT_DIR || path.join(__dirname, "..", "..", "..", ".tmp", "hardhat");

/** @type {import("hardhat/config").HardhatUserConfig} */
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "cancun",
      mining: { auto: true, interval: 0 },
      // Per-request logging costs throughput and fills the log; RADLEDGER_HARDHAT_LOGGING=1 restores it.
      loggingEnabled: process.env.RADLEDGER_HARDHAT_LOGGING === "1",
      accounts: { count: 20 },
    },
  },
  paths: {
    sources: path.join(dir, "sources"),
    cache: path.join(dir, "cache"),
    artifacts: path.join(dir, "artifacts"),
  },
};
