/**
 * The one error base of radledger. Every failure that a caller can act on carries a stable
 * UPPER_SNAKE `code`; the HTTP API maps the code's category to a status (RFC 9457 problem+json) and
 * the CLI maps it to an exit code. docs/errors.md lists every code; a test keeps the two in step.
 *
 * Messages never contain secrets or PHI: they name indexes, sizes, field paths and codes, not values
 * supplied by patients or clinicians.
 */

/** What kind of failure a code is; decides the HTTP status and CLI exit code at the edges. */
export type ErrorCategory =
  | "invalid" // the input is malformed or violates a schema (HTTP 400)
  | "unauthenticated" // no or bad credentials (401)
  | "forbidden" // authenticated but not allowed (403)
  | "not_found" // the named thing does not exist (404)
  | "conflict" // the input is well-formed but contradicts the current state (409)
  | "unprocessable" // a rule of the ledger refuses the entry or proof (422)
  | "too_large" // size limits (413)
  | "headers_too_large" // request header limits (431, RFC 6585)
  | "unsupported_media" // wrong Content-Type (415)
  | "rate_limited" // (429)
  | "verification" // a proof, signature or stored byte failed verification (422 over HTTP, exit 1 in the CLI)
  | "untrusted" // every check passed, but only against a key the input carries itself, which proves nothing (422, exit 8)
  | "unavailable" // a dependency or the node is not ready (503)
  | "internal"; // a bug: never expected (500)

/** Every code the product emits, with its category. Adding a code means documenting it in docs/errors.md. */
export const ERROR_CODES = {
  // encoding and input
  JSON_INVALID: "invalid",
  JSON_DUPLICATE_KEY: "invalid",
  JSON_NOT_CANONICAL: "invalid",
  JSON_FLOAT_FORBIDDEN: "invalid",
  JSON_UNSAFE_INTEGER: "invalid",
  JSON_TOO_DEEP: "invalid",
  JSON_NULL_FORBIDDEN: "invalid",
  ENCODING_INVALID: "invalid",
  INPUT_INVALID: "invalid",
  BODY_TOO_LARGE: "too_large",
  MEDIA_TYPE_UNSUPPORTED: "unsupported_media",
  ROUTE_NOT_FOUND: "not_found",
  // entries
  ENTRY_TOO_LARGE: "too_large",
  ENTRY_MALFORMED: "invalid",
  ENTRY_SCHEMA_INVALID: "invalid",
  ENTRY_UNKNOWN_TYPE: "invalid",
  ENTRY_BAD_SIGNATURE: "unprocessable",
  ENTRY_WRONG_ORIGIN: "unprocessable",
  ENTRY_TIME_OUT_OF_WINDOW: "unprocessable",
  ENTRY_DUPLICATE: "conflict",
  ENTRY_REF_NOT_FOUND: "unprocessable",
  ENTRY_REF_WRONG_TYPE: "unprocessable",
  ENTRY_NOT_FOUND: "not_found",
  RECORD_NOT_FOUND: "not_found",
  PATIENT_UNKNOWN: "not_found",
  // record family rules
  STUDY_ALREADY_REGISTERED: "conflict",
  MODEL_ALREADY_REGISTERED: "conflict",
  MODEL_RETIRED: "unprocessable",
  AI_INFERENCE_REQUIRED: "unprocessable",
  // AI results from DICOM (docs/intake.md "AI results from DICOM")
  AI_MODEL_UNKNOWN: "unprocessable",
  AI_RESULT_UNIDENTIFIED: "unprocessable",
  AI_STUDY_NOT_REGISTERED: "unprocessable",
  AI_INFERENCE_WRONG_STUDY: "unprocessable",
  AI_ORIGIN_INVALID: "unprocessable",
  INFERENCE_STUDY_REQUIRED: "unprocessable",
  INFERENCE_INPUT_MISMATCH: "unprocessable",
  AI_CONTENT_AS_HUMAN: "unprocessable",
  SIGNOFF_NOT_PERMITTED: "forbidden",
  REPORT_COSIGN_INVALID: "conflict",
  SECTION_NOT_PERMITTED: "unprocessable",
  DELEGATION_NOT_PERMITTED: "forbidden",
  REPORT_SIGNED: "conflict",
  REPORT_NOT_SIGNED: "conflict",
  REPORT_CONTRIBUTIONS_MISMATCH: "unprocessable",
  CONSULT_INVALID: "unprocessable",
  CONSULT_OPEN: "conflict",
  CONSULT_WRONG_ANSWERER: "unprocessable",
  CONSULT_ALREADY_ANSWERED: "conflict",
  // privacy
  COMMITMENT_MISMATCH: "verification",
  VAULT_ERASED: "conflict",
  PATIENT_ALREADY_ERASED: "conflict",
  ERASURE_INCOMPLETE: "unavailable",
  // consent and access rules
  CONSENT_NOT_PATIENT: "unprocessable",
  GRANT_ALREADY_REVOKED: "conflict",
  CARE_ALREADY_ENDED: "conflict",
  PATIENT_MISMATCH: "unprocessable",
  ACCESS_BASIS_INVALID: "unprocessable",
  ACCESS_PART_INVALID: "unprocessable",
  ACCESS_NOT_BREAK_GLASS: "unprocessable",
  ACCESS_ALREADY_REVIEWED: "conflict",
  ACCESS_SELF_REVIEW: "unprocessable",
  // audit messages from the hospital's systems (IHE ATNA, docs/audit.md)
  AUDIT_MESSAGE_MALFORMED: "invalid",
  AUDIT_MESSAGE_TOO_LARGE: "too_large",
  AUDIT_MESSAGE_NO_PATIENT: "unprocessable",
  AUDIT_MESSAGE_UNKNOWN_PATIENT: "unprocessable",
  AUDIT_SOURCE_UNKNOWN: "unauthenticated",
  // reports from the RIS: HL7 v2 ORU^R01 over MLLP (docs/intake.md)
  HL7_MESSAGE_MALFORMED: "invalid",
  HL7_MESSAGE_UNSUPPORTED: "invalid",
  HL7_MESSAGE_TOO_LARGE: "too_large",
  HL7_STUDY_UNKNOWN: "unprocessable",
  HL7_CLINICIAN_UNKNOWN: "unprocessable",
  HL7_SOURCE_UNKNOWN: "unauthenticated",
  AUDIT_FEED_FORBIDDEN: "forbidden",
  // identity rules
  KEY_UNKNOWN: "unprocessable",
  KEY_REVOKED: "unprocessable",
  KEY_ALREADY_ENROLLED: "conflict",
  ACTOR_UNKNOWN: "unprocessable",
  ACTOR_ALREADY_ENROLLED: "conflict",
  ROLE_NOT_PERMITTED: "forbidden",
  GENESIS_REQUIRED: "unprocessable",
  GENESIS_ALREADY_PRESENT: "conflict",
  TOKEN_NOT_ISSUABLE: "forbidden",
  TOKEN_RECORD_CONFLICT: "conflict",
  CERT_NOT_BINDABLE: "forbidden",
  CERT_BINDING_CONFLICT: "conflict",
  ENROLMENT_NOT_PERMITTED: "forbidden",
  ENROLMENT_CODE_INVALID: "forbidden",
  ENROLMENT_CODE_EXPIRED: "unprocessable",
  ENROLMENT_CODE_USED: "conflict",
  ENROLMENT_CODE_EXHAUSTED: "forbidden",
  ENROLMENT_PROOF_INVALID: "verification",
  // trials rules
  TRIAL_ALREADY_REGISTERED: "conflict",
  TRIAL_SUBJECT_EXISTS: "conflict",
  TRIAL_TIMEPOINT_UNKNOWN: "unprocessable",
  TRIAL_TIMEPOINT_EXISTS: "conflict",
  TRIAL_STUDY_MISMATCH: "unprocessable",
  TRIAL_READ_EXISTS: "conflict",
  TRIAL_MANIFEST_MISMATCH: "unprocessable",
  TRIAL_VERSION_SUPERSEDED: "conflict",
  TRIAL_CORRECTION_NOOP: "unprocessable",
  // datasets rules
  DATASET_CONTENT_EXISTS: "conflict",
  DATASET_REF_MISMATCH: "unprocessable",
  DATASET_VERSION_NOT_OPEN: "conflict",
  DATASET_VERSION_EMPTY: "unprocessable",
  DATASET_ROOT_MISMATCH: "unprocessable",
  DATASET_CONTRIB_MISMATCH: "unprocessable",
  DATASET_MODEL_MISMATCH: "unprocessable",
  // DICOM files and the Orthanc archive (src/adapters/dicom, src/adapters/orthanc)
  DICOM_NOT_PART10: "invalid",
  DICOM_TRUNCATED: "invalid",
  DICOM_UNSUPPORTED_TRANSFER_SYNTAX: "unsupported_media",
  DICOM_MALFORMED: "invalid",
  DICOM_MISSING_ATTRIBUTE: "invalid",
  DICOM_LIMIT_EXCEEDED: "too_large",
  DICOM_IO: "unavailable",
  DICOM_INCONSISTENT_STUDY: "invalid",
  DICOM_DEIDENTIFIED: "invalid",
  DEID_PIXEL_MISMATCH: "verification",
  ORTHANC_UNAVAILABLE: "unavailable",
  ORTHANC_AUTH_FAILED: "unavailable",
  ORTHANC_NOT_FOUND: "not_found",
  ORTHANC_BAD_REQUEST: "invalid",
  ORTHANC_BAD_RESPONSE: "unavailable",
  ORTHANC_NOT_CONFIGURED: "unavailable",
  // tree and proofs
  TREE_SIZE_INVALID: "invalid",
  TREE_INDEX_OUT_OF_RANGE: "invalid",
  PROOF_INVALID: "verification",
  PROOF_WRONG_LENGTH: "verification",
  ROOT_MISMATCH: "verification",
  // notes and checkpoints
  NOTE_MALFORMED: "invalid",
  NOTE_NO_VALID_SIGNATURE: "verification",
  NOTE_BAD_SIGNATURE: "verification",
  CHECKPOINT_MALFORMED: "invalid",
  CHECKPOINT_WRONG_ORIGIN: "verification",
  KEY_STRING_MALFORMED: "invalid",
  // tiles
  TILE_PATH_INVALID: "invalid",
  TILE_NOT_FOUND: "not_found",
  // bundles (docs/bundle-format.md)
  BUNDLE_MALFORMED: "verification",
  BUNDLE_VERSION_UNSUPPORTED: "verification",
  BUNDLE_INCOMPLETE: "verification",
  BUNDLE_KEY_INVALID: "verification",
  BUNDLE_PAYLOAD_MISMATCH: "verification",
  BUNDLE_WITNESS_QUORUM: "verification",
  BUNDLE_MEMBER_TOO_LARGE: "verification",
  BUNDLE_MEMBER_NOT_REGULAR: "verification",
  BUNDLE_KIND_UNKNOWN: "invalid",
  BUNDLE_PAYLOAD_UNMATCHED: "invalid",
  BUNDLE_UNTRUSTED: "untrusted",
  // storage and verification of a whole log
  STORE_EXISTS: "conflict",
  STORE_NOT_FOUND: "not_found",
  STORE_CORRUPT: "verification",
  STORE_ROLLED_BACK: "verification",
  STORE_FORKED: "verification",
  STORE_LOCKED: "unavailable",
  STORE_IO: "unavailable",
  STORE_FULL: "unavailable",
  VERIFY_FAILED: "verification",
  // backup and restore (docs/backup.md)
  BACKUP_TARGET_NOT_EMPTY: "conflict",
  BACKUP_MANIFEST_INVALID: "invalid",
  BACKUP_MANIFEST_MISMATCH: "verification",
  CONFIG_INVALID: "invalid",
  // node lifecycle
  NODE_CLOSED: "unavailable",
  NODE_BUSY: "unavailable",
  LISTEN_FAILED: "unavailable",
  TLS_CONFIG_INVALID: "invalid",
  // key backends: the node's own keys in files or an HSM (docs/security.md §Keys)
  KEY_BACKEND_CONFIG_INVALID: "invalid",
  KEY_BACKEND_UNAVAILABLE: "unavailable",
  KEY_BACKEND_TOKEN_NOT_FOUND: "not_found",
  KEY_BACKEND_PIN_MISSING: "invalid",
  KEY_BACKEND_PIN_INCORRECT: "unauthenticated",
  KEY_BACKEND_KEY_NOT_FOUND: "not_found",
  KEY_BACKEND_FAILED: "unavailable",
  // consortium: witnessing (C2SP tlog-witness), policies, evidence, mirrors, linking
  WITNESS_REQUEST_MALFORMED: "invalid",
  WITNESS_UNKNOWN_LOG: "not_found",
  WITNESS_UNTRUSTED_SIGNATURE: "forbidden",
  WITNESS_OLD_SIZE_INVALID: "invalid",
  WITNESS_SIZE_CONFLICT: "conflict",
  WITNESS_ROOT_CONFLICT: "conflict",
  WITNESS_PROOF_INVALID: "unprocessable",
  LOG_EQUIVOCATED: "forbidden",
  COSIGNATURE_INVALID: "verification",
  WITNESS_UNREACHABLE: "unavailable",
  POLICY_INVALID: "invalid",
  POLICY_NOT_MET: "verification",
  EVIDENCE_MALFORMED: "invalid",
  EVIDENCE_NOT_PROVEN: "verification",
  CONSORTIUM_NOT_CONFIGURED: "not_found",
  CONSORTIUM_CONFIG_INVALID: "invalid",
  PEER_UNKNOWN: "not_found",
  PEER_UNAVAILABLE: "unavailable",
  MIRROR_INCONSISTENT: "verification",
  MIRROR_ENTRY_REFUSED: "verification",
  PSEUDONYM_LINK_INVALID: "unprocessable",
  PSEUDONYM_LINK_EXISTS: "conflict",
  // anchoring on an EVM chain (contracts/RadledgerConsortium.sol custom errors, then transport)
  ANCHOR_INCONSISTENT: "unprocessable",
  ANCHOR_SIZE_REGRESSION: "unprocessable",
  ANCHOR_UNEXPECTED_PROOF: "invalid",
  ANCHOR_INVALID_EMPTY_ROOT: "invalid",
  ANCHOR_NOT_MEMBER: "forbidden",
  ANCHOR_NOT_AUTHORIZED: "forbidden",
  ANCHOR_QUORUM_NOT_REACHED: "conflict",
  ANCHOR_ALREADY_VOTED: "conflict",
  ANCHOR_UNKNOWN_PROPOSAL: "not_found",
  ANCHOR_PROPOSAL_EXECUTED: "conflict",
  ANCHOR_UNKNOWN_MEMBER: "not_found",
  ANCHOR_MEMBER_EXISTS: "conflict",
  ANCHOR_ACCOUNT_IN_USE: "conflict",
  ANCHOR_INVALID_MEMBER: "invalid",
  ANCHOR_INVALID_QUORUM: "invalid",
  EVM_UNAVAILABLE: "unavailable",
  EVM_INSUFFICIENT_FUNDS: "unavailable",
  EVM_TX_REVERTED: "conflict",
  EVM_CONTRACT_MISSING: "not_found",
  EVM_INVALID_CONFIG: "invalid",
  EVM_INVALID_ARGUMENT: "invalid",
  EVM_REQUEST_FAILED: "unavailable",
  // HTTP API: authentication, authorisation, limits
  AUTH_REQUIRED: "unauthenticated",
  AUTH_TOKEN_INVALID: "unauthenticated",
  AUTH_TOKEN_EXPIRED: "unauthenticated",
  AUTH_TOKEN_REVOKED: "unauthenticated",
  AUTH_CREDENTIALS_INVALID: "unauthenticated",
  AUTH_SIGNATURE_INVALID: "unauthenticated",
  AUTH_SIGNATURE_EXPIRED: "unauthenticated",
  AUTH_SIGNATURE_REPLAYED: "unauthenticated",
  AUTH_CERT_UNTRUSTED: "unauthenticated",
  AUTH_CERT_UNBOUND: "unauthenticated",
  AUTH_ACTOR_INACTIVE: "forbidden",
  FORBIDDEN_ROLE: "forbidden",
  FORBIDDEN_ACTOR_MISMATCH: "forbidden",
  FORBIDDEN_NOT_OWN_RECORD: "forbidden",
  PASSWORD_CHANGE_REQUIRED: "forbidden",
  CSRF_REJECTED: "forbidden",
  ACCESS_DENIED: "forbidden",
  SIGNING_KEY_NOT_HELD: "unprocessable",
  FHIR_CONSENT_UNSUPPORTED: "unprocessable",
  RATE_LIMITED: "rate_limited",
  HEADERS_TOO_LARGE: "headers_too_large",
  // CLI
  CLI_USAGE: "invalid",
  CONFIRMATION_REQUIRED: "invalid",
  INTERNAL: "internal",
} as const satisfies Record<string, ErrorCategory>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetails {
  /** Where the failure is, e.g. a JSON path (`body.contributions[2]`) or `entry 1234`. */
  readonly at?: string;
  /** Log index concerned, when there is one. */
  readonly index?: number;
  /** Any further machine-readable facts; never secrets or PHI. */
  readonly [key: string]: unknown;
}

export class RadledgerError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RadledgerError";
    this.code = code;
    this.details = details;
  }

  get category(): ErrorCategory {
    return ERROR_CODES[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isRadledgerError(e: unknown): e is RadledgerError {
  return e instanceof RadledgerError;
}

/** Wraps anything thrown into a RadledgerError, keeping coded errors as they are. */
export function toRadledgerError(e: unknown): RadledgerError {
  if (e instanceof RadledgerError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new RadledgerError("INTERNAL", message, {}, { cause: e });
}

export function fail(code: ErrorCode, message: string, details?: ErrorDetails): never {
  throw new RadledgerError(code, message, details);
}
