// JSON-RPC connection of the EVM adapter: config checks, viem clients for one account, the
// chain read from the endpoint, serialised writes and receipt polling. Contract-agnostic; the
// consortium client (./consortium.ts) and the benchmarks build on it.
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  TransactionReceiptNotFoundError,
  type Account,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { evmError, toEvmError } from "./errors.js";

export interface EvmConfig {
  /** JSON-RPC endpoint, e.g. http://127.0.0.1:8545. */
  rpcUrl: string;
  /** 0x-prefixed 32-byte secp256k1 private key of the account this client acts with. */
  privateKey: Hex;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  /** Receipt polling interval; default 250 ms (use ~20 ms against an automining dev node). */
  pollingIntervalMs?: number;
  /** How long to wait for a receipt; default 120 s. */
  receiptTimeoutMs?: number;
}

/** A viem chain for an endpoint whose chain id was read from it (Hardhat, a Besu consortium…). */
export function evmChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `evm-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

function checkConfig(config: EvmConfig): void {
  let url: URL | undefined;
  try {
    url = new URL(config.rpcUrl);
  } catch {
    url = undefined;
  }
  if (!url || !["http:", "https:"].includes(url.protocol)) {
    throw evmError("EVM_INVALID_CONFIG", "rpcUrl must be an http(s) URL");
  }
  // The key itself never appears in a message.
  if (!/^0x[0-9a-fA-F]{64}$/.test(config.privateKey)) {
    throw evmError("EVM_INVALID_CONFIG", "privateKey must be 0x followed by 64 hex digits");
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The connection shared by the consortium client and deployment: clients, chain, account. */
export class EvmConnection {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly config: Readonly<EvmConfig>,
    readonly chain: Chain,
    readonly account: Account,
    readonly publicClient: PublicClient<Transport, Chain>,
    readonly walletClient: WalletClient<Transport, Chain, Account>,
  ) {}

  /** Connects and reads the chain id. Throws EVM_UNAVAILABLE if the endpoint does not answer. */
  static async open(config: EvmConfig): Promise<EvmConnection> {
    checkConfig(config);
    const transport = http(config.rpcUrl, { timeout: config.timeoutMs ?? 10_000, retryCount: 1 });
    const account = privateKeyToAccount(config.privateKey);
    let chainId: number;
    try {
      chainId = await createPublicClient({ transport }).getChainId();
    } catch (err) {
      throw toEvmError(err, [], config.rpcUrl);
    }
    const chain = evmChain(chainId, config.rpcUrl);
    const pollingInterval = config.pollingIntervalMs ?? 250;
    const publicClient = createPublicClient({ chain, transport, pollingInterval });
    const walletClient = createWalletClient({ chain, transport, account, pollingInterval });
    return new EvmConnection(config, chain, account, publicClient, walletClient);
  }

  get address(): Address {
    return this.account.address;
  }

  /** Runs write operations one after another: one account has one nonce sequence. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Polls for the receipt; throws EVM_TX_REVERTED if the transaction reverted. */
  async receipt(hash: Hash): Promise<TransactionReceipt> {
    const deadline = Date.now() + (this.config.receiptTimeoutMs ?? 120_000);
    const interval = this.config.pollingIntervalMs ?? 250;
    for (;;) {
      try {
        const r = await this.publicClient.getTransactionReceipt({ hash });
        if (r.status !== "success") {
          throw evmError("EVM_TX_REVERTED", "transaction reverted", { txHash: hash });
        }
        return r;
      } catch (err) {
        if (!(err instanceof TransactionReceiptNotFoundError)) throw err;
      }
      if (Date.now() > deadline) {
        throw evmError("EVM_UNAVAILABLE", "no receipt before the timeout", { txHash: hash });
      }
      await sleep(interval);
    }
  }
}
