// EVM anchoring adapter (docs/design.md §4.7): RadledgerConsortium client and coded errors.
export { EvmConnection, evmChain, type EvmConfig } from "./connection.js";
export {
  ConsortiumClient,
  checkpointNoteHash,
  connectConsortium,
  deployConsortium,
  type AnchorEvent,
  type AnchoredCheckpoint,
  type ConsortiumMember,
  type HashInput,
  type MemberInput,
  type ProposalKind,
  type ProposalOutcome,
  type ProposalState,
  type TxOutcome,
} from "./consortium.js";
export { EVM_ERROR_CODES, evmError, redactUrl, toEvmError, type EvmErrorCode } from "./errors.js";
