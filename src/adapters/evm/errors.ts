// Coded errors of the EVM anchoring adapter. Every failure leaves this adapter as an EvmError
// with a stable UPPER_SNAKE `code` (for the CLI, the HTTP problem responses and tests to match
// on) and `details` that are safe to show: never the private key, never the RPC URL's path or
// query (hosted endpoints put API keys there), never a raw signed transaction.
import {
  BaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  InsufficientFundsError,
  RawContractError,
  RpcRequestError,
  TimeoutError,
  WebSocketRequestError,
  decodeErrorResult,
  isHex,
  type Abi,
  type Hex,
} from "viem";

export const EVM_ERROR_CODES = [
  // Anchoring (RadledgerConsortium.anchor)
  "ANCHOR_INCONSISTENT", // InconsistentCheckpoint: the proof does not show the new tree extends the anchored one
  "ANCHOR_SIZE_REGRESSION", // SizeRegression: smaller than the anchored size
  "ANCHOR_UNEXPECTED_PROOF", // UnexpectedProof: a proof where none is defined (first anchor, same size)
  "ANCHOR_INVALID_EMPTY_ROOT", // InvalidEmptyTreeRoot: size 0 with a root other than SHA-256("")
  "ANCHOR_NOT_MEMBER", // NotMember: the sender is not the account of an active member
  "ANCHOR_NOT_AUTHORIZED", // NotAuthorized: the sender acts for another member's origin
  // Consortium governance
  "ANCHOR_QUORUM_NOT_REACHED", // QuorumNotReached: execute() before k live votes
  "ANCHOR_ALREADY_VOTED", // AlreadyVoted
  "ANCHOR_UNKNOWN_PROPOSAL", // UnknownProposal
  "ANCHOR_PROPOSAL_EXECUTED", // ProposalAlreadyExecuted
  "ANCHOR_UNKNOWN_MEMBER", // UnknownMember: no active member with that origin
  "ANCHOR_MEMBER_EXISTS", // MemberExists
  "ANCHOR_ACCOUNT_IN_USE", // AccountInUse: the account already acts for an active member
  "ANCHOR_INVALID_MEMBER", // InvalidOrigin / InvalidAccount / InvalidKey
  "ANCHOR_INVALID_QUORUM", // InvalidQuorum: k outside 1..active members (also removals below k)
  // Transport and chain
  "EVM_UNAVAILABLE", // the JSON-RPC endpoint cannot be reached or timed out
  "EVM_INSUFFICIENT_FUNDS", // the sending account cannot pay for gas
  "EVM_TX_REVERTED", // mined but reverted (state changed between estimate and inclusion)
  "EVM_CONTRACT_MISSING", // no RadledgerConsortium code at the configured address
  "EVM_INVALID_CONFIG", // malformed private key, URL or address
  "EVM_INVALID_ARGUMENT", // a hash that is not 32 bytes, a size outside uint64
  "EVM_REQUEST_FAILED", // any other JSON-RPC failure
] as const;

export type EvmErrorCode = (typeof EVM_ERROR_CODES)[number];

export class EvmError extends Error {
  override readonly name = "EvmError";

  constructor(
    readonly code: EvmErrorCode,
    message: string,
    /** Safe to log and to return to API clients. */
    readonly details: Readonly<Record<string, string | number | boolean>> = {},
  ) {
    super(message);
  }
}

/** Solidity custom error name (contracts/RadledgerConsortium.sol) → adapter error code. */
const CONTRACT_ERRORS: Readonly<Record<string, EvmErrorCode>> = {
  InconsistentCheckpoint: "ANCHOR_INCONSISTENT",
  SizeRegression: "ANCHOR_SIZE_REGRESSION",
  UnexpectedProof: "ANCHOR_UNEXPECTED_PROOF",
  InvalidEmptyTreeRoot: "ANCHOR_INVALID_EMPTY_ROOT",
  NotMember: "ANCHOR_NOT_MEMBER",
  NotAuthorized: "ANCHOR_NOT_AUTHORIZED",
  QuorumNotReached: "ANCHOR_QUORUM_NOT_REACHED",
  AlreadyVoted: "ANCHOR_ALREADY_VOTED",
  UnknownProposal: "ANCHOR_UNKNOWN_PROPOSAL",
  ProposalAlreadyExecuted: "ANCHOR_PROPOSAL_EXECUTED",
  UnknownMember: "ANCHOR_UNKNOWN_MEMBER",
  MemberExists: "ANCHOR_MEMBER_EXISTS",
  AccountInUse: "ANCHOR_ACCOUNT_IN_USE",
  InvalidOrigin: "ANCHOR_INVALID_MEMBER",
  InvalidAccount: "ANCHOR_INVALID_MEMBER",
  InvalidKey: "ANCHOR_INVALID_MEMBER",
  InvalidQuorum: "ANCHOR_INVALID_QUORUM",
};

/** The scheme, host and port of an RPC URL: enough to say where, never its credentials. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(invalid URL)";
  }
}

function plain(value: unknown): string | number | boolean {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") return value;
  return String(value);
}

function fromRevert(errorName: string, args: readonly unknown[] | undefined, abi: Abi): EvmError {
  const code = CONTRACT_ERRORS[errorName] ?? "EVM_TX_REVERTED";
  const def = abi.find((e) => e.type === "error" && e.name === errorName);
  const details: Record<string, string | number | boolean> = { contractError: errorName };
  if (def?.type === "error") {
    def.inputs.forEach((input, i) => {
      if (args && i < args.length) details[input.name ?? String(i)] = plain(args[i]);
    });
  }
  return new EvmError(code, `contract refused: ${errorName}`, details);
}

function hexData(value: unknown): Hex | undefined {
  if (typeof value === "string") return isHex(value) && value.length >= 10 ? value : undefined;
  if (typeof value === "object" && value !== null && "data" in value) return hexData(value.data);
  return undefined;
}

function revertData(err: BaseError): Hex | undefined {
  let found: Hex | undefined;
  err.walk((e) => {
    if (e instanceof RawContractError || e instanceof RpcRequestError) found = hexData(e.data);
    return found !== undefined;
  });
  return found;
}

/**
 * Maps anything viem (or the node behind it) throws to an EvmError. `rpcUrl` is only ever
 * reported through redactUrl().
 */
export function toEvmError(err: unknown, abi: Abi, rpcUrl: string): EvmError {
  if (err instanceof EvmError) return err;
  if (!(err instanceof BaseError)) {
    const msg = err instanceof Error ? err.message : String(err);
    return new EvmError("EVM_REQUEST_FAILED", `EVM request failed: ${msg}`);
  }

  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data) {
    return fromRevert(reverted.data.errorName, reverted.data.args, abi);
  }
  // Deployments and raw calls carry undecoded revert data: viem's RawContractError, or the
  // node's JSON-RPC error data (Hardhat: { message, data: "0x…" }; Besu, Geth: "0x…").
  const hex = revertData(err);
  if (hex) {
    try {
      const decoded = decodeErrorResult({ abi, data: hex });
      return fromRevert(decoded.errorName, decoded.args, abi);
    } catch {
      // not one of ours: fall through
    }
  }

  if (err.walk((e) => e instanceof InsufficientFundsError)) {
    return new EvmError("EVM_INSUFFICIENT_FUNDS", "the sending account cannot pay for gas");
  }
  if (
    err.walk(
      (e) => e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof WebSocketRequestError,
    )
  ) {
    return new EvmError("EVM_UNAVAILABLE", `EVM JSON-RPC endpoint unavailable at ${redactUrl(rpcUrl)}`, {
      endpoint: redactUrl(rpcUrl),
    });
  }
  return new EvmError("EVM_REQUEST_FAILED", `EVM request failed: ${err.shortMessage}`);
}
