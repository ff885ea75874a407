// Coded errors of the EVM anchoring adapter. Every failure leaves this adapter as a RadledgerError
// whose code is one of EVM_ERROR_CODES (src/core/errors.ts, docs/errors.md), with `details` that
// are safe to show: never the private key, never the RPC URL's path or query (hosted endpoints put
// API keys there), never a raw signed transaction.
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
import { RadledgerError, type ErrorCode } from "../../core/errors.js";

/** The codes this adapter emits: the contract's custom errors (ANCHOR_*) and transport failures (EVM_*). */
export const EVM_ERROR_CODES = [
  "ANCHOR_INCONSISTENT",
  "ANCHOR_SIZE_REGRESSION",
  "ANCHOR_UNEXPECTED_PROOF",
  "ANCHOR_INVALID_EMPTY_ROOT",
  "ANCHOR_NOT_MEMBER",
  "ANCHOR_NOT_AUTHORIZED",
  "ANCHOR_QUORUM_NOT_REACHED",
  "ANCHOR_ALREADY_VOTED",
  "ANCHOR_UNKNOWN_PROPOSAL",
  "ANCHOR_PROPOSAL_EXECUTED",
  "ANCHOR_UNKNOWN_MEMBER",
  "ANCHOR_MEMBER_EXISTS",
  "ANCHOR_ACCOUNT_IN_USE",
  "ANCHOR_INVALID_MEMBER",
  "ANCHOR_INVALID_QUORUM",
  "EVM_UNAVAILABLE",
  "EVM_INSUFFICIENT_FUNDS",
  "EVM_TX_REVERTED",
  "EVM_CONTRACT_MISSING",
  "EVM_INVALID_CONFIG",
  "EVM_INVALID_ARGUMENT",
  "EVM_REQUEST_FAILED",
] as const satisfies readonly ErrorCode[];

export type EvmErrorCode = (typeof EVM_ERROR_CODES)[number];

/** A RadledgerError with an EVM adapter code and details that are safe to show. */
export function evmError(
  code: EvmErrorCode,
  message: string,
  details: Readonly<Record<string, string | number | boolean>> = {},
): RadledgerError {
  return new RadledgerError(code, message, details);
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

function fromRevert(errorName: string, args: readonly unknown[] | undefined, abi: Abi): RadledgerError {
  const code = CONTRACT_ERRORS[errorName] ?? "EVM_TX_REVERTED";
  const def = abi.find((e) => e.type === "error" && e.name === errorName);
  const details: Record<string, string | number | boolean> = { contractError: errorName };
  if (def?.type === "error") {
    def.inputs.forEach((input, i) => {
      if (args && i < args.length) details[input.name ?? String(i)] = plain(args[i]);
    });
  }
  return evmError(code, `contract refused: ${errorName}`, details);
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
 * Maps anything viem (or the node behind it) throws to a coded RadledgerError. `rpcUrl` is only ever
 * reported through redactUrl().
 */
export function toEvmError(err: unknown, abi: Abi, rpcUrl: string): RadledgerError {
  if (err instanceof RadledgerError) return err;
  if (!(err instanceof BaseError)) {
    const msg = err instanceof Error ? err.message : String(err);
    return evmError("EVM_REQUEST_FAILED", `EVM request failed: ${msg}`);
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
    return evmError("EVM_INSUFFICIENT_FUNDS", "the sending account cannot pay for gas");
  }
  if (
    err.walk(
      (e) => e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof WebSocketRequestError,
    )
  ) {
    return evmError("EVM_UNAVAILABLE", `EVM JSON-RPC endpoint unavailable at ${redactUrl(rpcUrl)}`, {
      endpoint: redactUrl(rpcUrl),
    });
  }
  return evmError("EVM_REQUEST_FAILED", `EVM request failed: ${err.shortMessage}`);
}
