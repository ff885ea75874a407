// A Hardhat JSON-RPC node for tests, benchmarks and the docs walkthrough: the one named by
// RADLEDGER_TEST_EVM_RPC_URL if set (CI starts one with scripts/services/hardhat.sh), otherwise a
// fresh one started with that same script in a temporary directory and stopped with
// scripts/services/stop.sh (by PID). Development tooling only: nothing in the node imports it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { mnemonicToAccount } from "viem/accounts";
import type { Hex } from "viem";

const run = promisify(execFile);
// src/adapters/evm and dist/adapters/evm are both three levels below the repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface EvmService {
  rpcUrl: string;
  stop(): Promise<void>;
}

export async function startEvmService(): Promise<EvmService> {
  const fromEnv = process.env.RADLEDGER_TEST_EVM_RPC_URL;
  if (fromEnv) return { rpcUrl: fromEnv, stop: () => Promise.resolve() };

  const dir = await mkdtemp(join(tmpdir(), "radledger-hardhat-"));
  const stop = async (): Promise<void> => {
    await run("bash", [join(root, "scripts/services/stop.sh"), dir], { timeout: 30_000 });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run("bash", [join(root, "scripts/services/hardhat.sh"), dir], { timeout: 180_000 });
    const env = await readFile(join(dir, "env"), "utf8");
    const rpcUrl = /^RADLEDGER_TEST_EVM_RPC_URL=(\S+)$/m.exec(env)?.[1];
    if (!rpcUrl) throw new Error(`no RADLEDGER_TEST_EVM_RPC_URL in ${dir}/env`);
    return { rpcUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Hardhat's default development mnemonic. Its accounts and keys are published in Hardhat's
 * documentation and printed by every `hardhat node`: test-only, never real keys.
 */
export const HARDHAT_DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** Private key of Hardhat dev account `index` (the node funds indexes 0..19). */
export function devAccountKey(index: number): Hex {
  const key = mnemonicToAccount(HARDHAT_DEV_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (!key) throw new Error(`no private key for dev account ${index}`);
  return `0x${Buffer.from(key).toString("hex")}`;
}
