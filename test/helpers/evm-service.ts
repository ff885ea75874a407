// Tests use the same Hardhat node helper as the benchmarks (src/adapters/evm/dev-node.ts).
export {
  devAccountKey,
  HARDHAT_DEV_MNEMONIC,
  startEvmService,
  type EvmService,
} from "../../src/adapters/evm/dev-node.js";
