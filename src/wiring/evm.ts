/**
 * Wiring of the EVM anchoring contract for `radledger anchor` (docs/evm-anchoring.md): deploying
 * RadledgerConsortium, connecting to it, and an account's address from its key.
 */
import { privateKeyToAccount } from "viem/accounts";
import { connectConsortium, deployConsortium } from "../adapters/evm/index.js";

export type { MemberInput } from "../adapters/evm/index.js";

export const evmAnchoring = {
  deploy: deployConsortium,
  connect: connectConsortium,
  /** The account address (0x…) of a private key. */
  accountOf: (privateKey: `0x${string}`): `0x${string}` => privateKeyToAccount(privateKey).address,
};
