// vitest globalSetup (vitest.config.ts). Services that a test file needs are started by that file
// (e.g. test/integration/evm.test.ts starts a Hardhat node unless RADLEDGER_TEST_EVM_RPC_URL is
// set), so there is nothing to do once per run yet.
export default function setup(): void {
  // intentionally empty
}
