// Typed client for contracts/RadledgerConsortium.sol over any EVM JSON-RPC endpoint (Hardhat in
// tests, Besu QBFT in a consortium; docs/design.md §4.7). The compiled ABI and bytecode are
// committed under ./artifacts, so nothing here needs a Solidity compiler.
//
// Writes are serialised per client (one account, one nonce sequence) and each waits for its
// receipt, so a resolved promise means "mined and successful". Every failure is a RadledgerError
// with a stable code (./errors.ts, docs/errors.md).
import {
  encodeDeployData,
  getAddress,
  isAddress,
  isHex,
  keccak256,
  parseEventLogs,
  toHex,
  type Address,
  type Hash,
  type Hex,
  type TransactionReceipt,
} from "viem";
import { createHash } from "node:crypto";
import { radledgerConsortiumAbi, radledgerConsortiumBytecode } from "./artifacts/RadledgerConsortium.js";
import { EvmConnection, type EvmConfig } from "./connection.js";
import { evmError, toEvmError } from "./errors.js";

const abi = radledgerConsortiumAbi;

/** A 32-byte hash given as bytes or as 0x-prefixed hex. */
export type HashInput = Uint8Array | Hex;

export interface MemberInput {
  /** Log origin, e.g. "radledger.hospital-a.example/log". */
  origin: string;
  /** The EVM account allowed to act for this member. */
  account: Address;
  /** C2SP signed-note verifier key of the log: <name>+<hex keyID>+<base64(0x01||pubkey)>. */
  verifierKey: string;
  /** C2SP verifier key of the member's witness (may be empty). */
  witnessKey: string;
}

export interface ConsortiumMember extends MemberInput {
  active: boolean;
}

export interface AnchoredCheckpoint {
  origin: string;
  size: bigint;
  rootHash: Uint8Array;
  /** SHA-256 of the full signed checkpoint note. */
  noteHash: Uint8Array;
  /** Block timestamp (seconds) of the anchoring transaction. */
  timestamp: bigint;
}

export interface TxOutcome {
  txHash: Hash;
  gasUsed: bigint;
  blockNumber: bigint;
}

export interface ProposalOutcome extends TxOutcome {
  proposalId: bigint;
  /** Live votes after this transaction (votes of members still active). */
  votes: bigint;
  quorum: bigint;
  /** Whether this transaction reached the quorum and executed the proposal. */
  executed: boolean;
}

/** A CheckpointAnchored event: which transaction anchored which size. */
export interface AnchorEvent {
  origin: string;
  previousSize: bigint;
  size: bigint;
  rootHash: Uint8Array;
  txHash: Hash;
  blockNumber: bigint;
}

export type ProposalKind = "admit" | "remove" | "setQuorum";
const PROPOSAL_KINDS: readonly ProposalKind[] = ["admit", "remove", "setQuorum"];

export interface ProposalState {
  id: bigint;
  kind: ProposalKind;
  executed: boolean;
  /** admit / remove: the subject's origin. */
  origin: string;
  /** admit: the account proposed. */
  account: Address;
  /** setQuorum: the proposed k. */
  newQuorum: number;
  votes: bigint;
}

function bytes32(h: HashInput, what: string): Hex {
  const hex: string = typeof h === "string" ? h : `0x${Buffer.from(h).toString("hex")}`;
  if (!isHex(hex) || hex.length !== 66) {
    throw evmError("EVM_INVALID_ARGUMENT", `${what} must be 32 bytes`, { field: what });
  }
  return hex.toLowerCase() as Hex;
}

function bytesOf(hex: Hex): Uint8Array {
  return new Uint8Array(Buffer.from(hex.slice(2), "hex"));
}

function uint64(n: number | bigint, what: string): bigint {
  const v = BigInt(n);
  if (v < 0n || v >= 1n << 64n) throw evmError("EVM_INVALID_ARGUMENT", `${what} must be a uint64`);
  return v;
}

/** Deploys RadledgerConsortium with the bootstrap member set and quorum k. */
export async function deployConsortium(
  config: EvmConfig,
  params: { members: readonly MemberInput[]; quorum: number },
): Promise<ConsortiumClient> {
  const conn = await EvmConnection.open(config);
  return conn.serial(async () => {
    try {
      const args = [
        params.members.map((m) => ({
          origin: m.origin,
          account: getAddress(m.account),
          verifierKey: m.verifierKey,
          witnessKey: m.witnessKey,
        })),
        BigInt(params.quorum),
      ] as const;
      // Dry-run the constructor first: a refused bootstrap (bad quorum, duplicate member) then
      // comes back as a decoded custom error rather than an opaque failed deployment.
      await conn.publicClient.call({
        account: conn.account,
        data: encodeDeploy(args),
      });
      const hash = await conn.walletClient.deployContract({
        abi,
        bytecode: radledgerConsortiumBytecode,
        args,
      });
      const receipt = await conn.receipt(hash);
      if (!receipt.contractAddress) throw evmError("EVM_TX_REVERTED", "deployment created no contract");
      return new ConsortiumClient(conn, receipt.contractAddress);
    } catch (err) {
      throw toEvmError(err, abi, config.rpcUrl);
    }
  });
}

function encodeDeploy(
  args: readonly [
    readonly { origin: string; account: Address; verifierKey: string; witnessKey: string }[],
    bigint,
  ],
): Hex {
  return encodeDeployData({ abi, bytecode: radledgerConsortiumBytecode, args });
}

/** Connects to an already deployed RadledgerConsortium. */
export async function connectConsortium(config: EvmConfig, address: Address): Promise<ConsortiumClient> {
  if (!isAddress(address)) throw evmError("EVM_INVALID_CONFIG", "contract address is not an address");
  const conn = await EvmConnection.open(config);
  let code: Hex | undefined;
  try {
    code = await conn.publicClient.getCode({ address });
  } catch (err) {
    throw toEvmError(err, abi, config.rpcUrl);
  }
  if (!code || code === "0x") {
    throw evmError("EVM_CONTRACT_MISSING", "no contract at the configured address", { address });
  }
  return new ConsortiumClient(conn, getAddress(address));
}

export class ConsortiumClient {
  constructor(
    private readonly conn: EvmConnection,
    readonly address: Address,
  ) {}

  /** The account this client sends from. */
  get account(): Address {
    return this.conn.address;
  }

  /** A client for the same contract acting with another account (e.g. another member). */
  async as(config: EvmConfig): Promise<ConsortiumClient> {
    return new ConsortiumClient(await EvmConnection.open(config), this.address);
  }

  // ------------------------------------------------------------------ writes

  /**
   * Anchors a checkpoint of `origin` (this client's account must act for it) with the RFC 9162
   * consistency proof from the last anchored checkpoint (empty for the first anchor or an equal
   * size). `noteHash` is SHA-256 of the full signed checkpoint note (see checkpointNoteHash).
   */
  anchor(
    origin: string,
    size: number | bigint,
    rootHash: HashInput,
    proof: readonly HashInput[],
    noteHash: HashInput,
  ): Promise<TxOutcome> {
    return this.write((w, address) =>
      w.writeContract({
        address,
        abi,
        functionName: "anchor",
        args: [
          origin,
          uint64(size, "size"),
          bytes32(rootHash, "rootHash"),
          proof.map((p, i) => bytes32(p, `proof[${i}]`)),
          bytes32(noteHash, "noteHash"),
        ],
      }),
    );
  }

  async proposeAdmission(member: MemberInput): Promise<ProposalOutcome> {
    const out = await this.write((w, address) =>
      w.writeContract({
        address,
        abi,
        functionName: "proposeAdmission",
        args: [member.origin, getAddress(member.account), member.verifierKey, member.witnessKey],
      }),
    );
    return this.proposalOutcome(out);
  }

  async proposeRemoval(origin: string): Promise<ProposalOutcome> {
    const out = await this.write((w, address) =>
      w.writeContract({ address, abi, functionName: "proposeRemoval", args: [origin] }),
    );
    return this.proposalOutcome(out);
  }

  async proposeQuorum(k: number): Promise<ProposalOutcome> {
    const out = await this.write((w, address) =>
      w.writeContract({ address, abi, functionName: "proposeQuorum", args: [k] }),
    );
    return this.proposalOutcome(out);
  }

  /** Votes for a proposal; a vote short of quorum records the vote and changes nothing else. */
  async vote(proposalId: bigint): Promise<ProposalOutcome> {
    const out = await this.write((w, address) =>
      w.writeContract({ address, abi, functionName: "vote", args: [proposalId] }),
    );
    return this.proposalOutcome(out);
  }

  /** Executes a proposal that already has k live votes (e.g. after k was lowered). */
  async execute(proposalId: bigint): Promise<ProposalOutcome> {
    const out = await this.write((w, address) =>
      w.writeContract({ address, abi, functionName: "execute", args: [proposalId] }),
    );
    // execute() emits no Voted event: read the tally and k as they stand after it.
    const [state, quorum] = await Promise.all([this.proposal(proposalId), this.quorum()]);
    return { ...this.proposalOutcome(out), votes: state.votes, quorum };
  }

  // ------------------------------------------------------------------ reads

  /** The member's latest anchored checkpoint, or undefined if it never anchored. */
  async latest(origin: string): Promise<AnchoredCheckpoint | undefined> {
    const cp = await this.read(() =>
      this.conn.publicClient.readContract({
        address: this.address,
        abi,
        functionName: "latest",
        args: [origin],
      }),
    );
    if (!cp.anchored) return undefined;
    return {
      origin,
      size: cp.size,
      rootHash: bytesOf(cp.root),
      noteHash: bytesOf(cp.noteHash),
      timestamp: cp.timestamp,
    };
  }

  /**
   * The member's CheckpointAnchored events, oldest first (from block 0: a consortium chain is small;
   * a public chain would pass the deployment block).
   */
  async anchorEvents(origin: string, fromBlock = 0n): Promise<AnchorEvent[]> {
    const logs = await this.read(() =>
      this.conn.publicClient.getContractEvents({
        address: this.address,
        abi,
        eventName: "CheckpointAnchored",
        args: { originHash: keccak256(toHex(origin)) },
        fromBlock,
        toBlock: "latest",
      }),
    );
    return logs.map((l) => ({
      origin: l.args.origin ?? origin,
      previousSize: l.args.previousSize ?? 0n,
      size: l.args.size ?? 0n,
      rootHash: bytesOf(l.args.root ?? "0x"),
      txHash: l.transactionHash,
      blockNumber: l.blockNumber,
    }));
  }

  /** Active members, in admission order. */
  async members(): Promise<ConsortiumMember[]> {
    const list = await this.read(() =>
      this.conn.publicClient.readContract({ address: this.address, abi, functionName: "members" }),
    );
    return list.map((m) => ({ ...m }));
  }

  /** Any member ever admitted (active or removed); ANCHOR_UNKNOWN_MEMBER otherwise. */
  async member(origin: string): Promise<ConsortiumMember> {
    const m = await this.read(() =>
      this.conn.publicClient.readContract({
        address: this.address,
        abi,
        functionName: "member",
        args: [origin],
      }),
    );
    return { ...m };
  }

  async quorum(): Promise<bigint> {
    return this.read(() =>
      this.conn.publicClient.readContract({ address: this.address, abi, functionName: "quorum" }),
    );
  }

  async proposal(id: bigint): Promise<ProposalState> {
    const [kind, executed, newQuorum, account, origin, votes] = await this.read(() =>
      this.conn.publicClient.readContract({
        address: this.address,
        abi,
        functionName: "proposal",
        args: [id],
      }),
    );
    return { id, kind: PROPOSAL_KINDS[kind] ?? "admit", executed, newQuorum, account, origin, votes };
  }

  /** Runs the on-chain RFC 9162 §2.1.4.2 verifier as a call (no transaction, no gas paid). */
  async verifyConsistency(
    first: number | bigint,
    second: number | bigint,
    firstHash: HashInput,
    secondHash: HashInput,
    proof: readonly HashInput[],
  ): Promise<boolean> {
    return this.read(() =>
      this.conn.publicClient.readContract({
        address: this.address,
        abi,
        functionName: "verifyConsistency",
        args: [
          BigInt(first),
          BigInt(second),
          bytes32(firstHash, "firstHash"),
          bytes32(secondHash, "secondHash"),
          proof.map((p, i) => bytes32(p, `proof[${i}]`)),
        ],
      }),
    );
  }

  // ------------------------------------------------------------------ plumbing

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toEvmError(err, abi, this.conn.config.rpcUrl);
    }
  }

  /**
   * Sends one transaction (serialised with this client's other writes) and waits for its
   * receipt. viem estimates gas first; a refusal is decoded from the estimate's revert data, so
   * nothing is sent (and no gas is paid) for a transaction the contract would refuse.
   */
  private write(
    send: (wallet: EvmConnection["walletClient"], address: Address) => Promise<Hash>,
  ): Promise<TxOutcome & { receipt: TransactionReceipt }> {
    return this.conn.serial(async () => {
      try {
        const hash = await send(this.conn.walletClient, this.address);
        const receipt = await this.conn.receipt(hash);
        return { txHash: hash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber, receipt };
      } catch (err) {
        throw toEvmError(err, abi, this.conn.config.rpcUrl);
      }
    });
  }

  private proposalOutcome(out: TxOutcome & { receipt: TransactionReceipt }): ProposalOutcome {
    const logs = parseEventLogs({
      abi,
      logs: out.receipt.logs,
      eventName: ["ProposalCreated", "Voted", "ProposalExecuted"],
    });
    let proposalId: bigint | undefined;
    let votes = 0n;
    let quorum = 0n;
    let executed = false;
    for (const log of logs) {
      if (log.eventName === "Voted") {
        proposalId = log.args.id;
        votes = log.args.votes;
        quorum = log.args.quorum;
      } else if (log.eventName === "ProposalExecuted") {
        proposalId = log.args.id;
        executed = true;
      } else {
        proposalId = log.args.id;
      }
    }
    if (proposalId === undefined) {
      throw evmError("EVM_REQUEST_FAILED", "no proposal event in the receipt", { txHash: out.txHash });
    }
    return {
      txHash: out.txHash,
      gasUsed: out.gasUsed,
      blockNumber: out.blockNumber,
      proposalId,
      votes,
      quorum,
      executed,
    };
  }
}

/** SHA-256 of the full signed checkpoint note text, as anchored for reference (noteHash). */
export function checkpointNoteHash(note: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(note).digest());
}
