// EVM baseline for docs/performance.md (append ≥ 40× an EVM chain recording the same events): how many
// ledger events per second a local Hardhat network sustains when each event is its own
// transaction to contracts/EventRecorder.sol — the design a MedRec-style system would use.
//
//   npx tsx src/bench/evm-baseline.ts [--txs 2000] [--accounts 8] [--out bench-results/evm-baseline.json]
//
// Uses RADLEDGER_TEST_EVM_RPC_URL if set, else starts (and stops) a node with
// scripts/services/hardhat.sh. Prints one JSON object:
//   { "evmEventsPerSecond": …, "txs": …, "gasPerEvent": …, … }
//
// To measure the chain and not this client, and to mirror radledger's benchmark (entries are
// pre-signed by their authors), every transaction is signed before the clock starts. The clock
// then covers submission of all transactions (several accounts in parallel, each in nonce order:
// bounded concurrency = number of accounts) and fetching every receipt. Hardhat automines one
// block per transaction; its request logging is off (test/services/hardhat/hardhat.config.cjs),
// which favours the EVM side of the comparison.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  http,
  keccak256,
  toHex,
  type Hash,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { eventRecorderAbi, eventRecorderBytecode } from "../adapters/evm/artifacts/EventRecorder.js";
import { evmChain } from "../adapters/evm/connection.js";
import { devAccountKey, startEvmService } from "../adapters/evm/dev-node.js";

export interface EvmBaselineOptions {
  txs: number;
  accounts: number;
  /** First Hardhat dev account used (tests use 0..9). */
  firstAccount: number;
}

export interface EvmBaselineResult {
  evmEventsPerSecond: number;
  txs: number;
  gasPerEvent: number;
  accounts: number;
  concurrency: number;
  elapsedMs: number;
  blocks: number;
  node: string;
  mining: string;
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export async function runEvmBaseline(rpcUrl: string, opts: EvmBaselineOptions): Promise<EvmBaselineResult> {
  const transport = http(rpcUrl, { timeout: 60_000, retryCount: 0 });
  const chainId = await createPublicClient({ transport }).getChainId();
  const chain = evmChain(chainId, rpcUrl);
  const client = createPublicClient({ chain, transport, pollingInterval: 20 });
  const signers = Array.from({ length: opts.accounts }, (_, i) =>
    privateKeyToAccount(devAccountKey(opts.firstAccount + i)),
  );
  const nodeVersion = await client.request({ method: "web3_clientVersion" });

  // Deploy the recorder.
  const deployer = createWalletClient({ chain, transport, account: signers[0]! });
  const deployHash = await deployer.deployContract({
    abi: eventRecorderAbi,
    bytecode: eventRecorderBytecode,
  });
  const deployed = await client.waitForTransactionReceipt({ hash: deployHash });
  const recorder = deployed.contractAddress;
  if (!recorder) throw new Error("EventRecorder deployment created no contract");

  // One event: entry hash, actor (a pseudonymous actor key id) and event kind, as radledger would record.
  const eventData = (i: number): Hex =>
    encodeFunctionData({
      abi: eventRecorderAbi,
      functionName: "record",
      args: [keccak256(toHex(`entry/${i}`)), keccak256(toHex(`actor/${i % 97}`)), i % 8],
    });
  const gasEstimate = await client.estimateGas({ account: signers[0]!, to: recorder, data: eventData(0) });
  const gas = (gasEstimate * 13n) / 10n;
  const fees = await client.estimateFeesPerGas();
  const maxFeePerGas = fees.maxFeePerGas * 4n; // headroom: the base fee only falls on an idle dev chain
  const maxPriorityFeePerGas = fees.maxPriorityFeePerGas;

  // Pre-sign every transaction: account i % K, consecutive nonces per account.
  const nonces = await Promise.all(
    signers.map((s) => client.getTransactionCount({ address: s.address, blockTag: "pending" })),
  );
  const perAccount: Hex[][] = signers.map(() => []);
  for (let i = 0; i < opts.txs; i++) {
    const a = i % signers.length;
    const signer = signers[a]!;
    const nonce = nonces[a]! + perAccount[a]!.length;
    perAccount[a]!.push(
      await signer.signTransaction({
        chainId,
        type: "eip1559",
        to: recorder,
        data: eventData(i),
        gas,
        maxFeePerGas,
        maxPriorityFeePerGas,
        nonce,
      }),
    );
  }

  const startBlock = await client.getBlockNumber();
  const hashes: Hash[] = [];
  const t0 = performance.now();
  await pool(perAccount, perAccount.length, async (raw) => {
    for (const tx of raw) hashes.push(await client.sendRawTransaction({ serializedTransaction: tx }));
  });
  let gasUsed = 0n;
  await pool(hashes, 16, async (hash) => {
    const r = await client.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (r.status !== "success") throw new Error(`record transaction ${hash} reverted`);
    gasUsed += r.gasUsed;
  });
  const elapsedMs = performance.now() - t0;
  const endBlock = await client.getBlockNumber();

  const recorded = await client.readContract({
    address: recorder,
    abi: eventRecorderAbi,
    functionName: "count",
  });
  if (recorded !== BigInt(opts.txs)) throw new Error(`recorded ${recorded} events, expected ${opts.txs}`);

  return {
    evmEventsPerSecond: Math.round((opts.txs / elapsedMs) * 1000 * 10) / 10,
    txs: opts.txs,
    gasPerEvent: Math.round(Number(gasUsed) / opts.txs),
    accounts: opts.accounts,
    concurrency: opts.accounts,
    elapsedMs: Math.round(elapsedMs),
    blocks: Number(endBlock - startBlock),
    node: nodeVersion,
    mining: "automine (one block per transaction)",
  };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const opts: EvmBaselineOptions = {
    txs: Number(arg("txs", "2000")),
    accounts: Number(arg("accounts", "8")),
    firstAccount: 0,
  };
  if (!(opts.txs > 0 && opts.accounts > 0 && opts.accounts <= 20)) {
    throw new Error("--txs must be > 0 and --accounts within 1..20 (the node funds 20 dev accounts)");
  }
  // Stay clear of the accounts the integration tests use (0..9) when the node may be shared.
  opts.firstAccount = opts.accounts <= 10 ? 10 : 20 - opts.accounts;
  const service = await startEvmService();
  try {
    const result = await runEvmBaseline(service.rpcUrl, opts);
    const json = JSON.stringify(result);
    process.stdout.write(`${json}\n`);
    const out = arg("out", "");
    if (out) {
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, `${json}\n`);
    }
  } finally {
    await service.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
}
