/**
 * The authentication port: node-local operational state (API tokens and passwords), kept out of the
 * log on purpose — credentials are secrets of this node, not statements anyone signs, and a token
 * revocation must take effect without waiting for a batch. Only slow-KDF hashes are stored; a token's
 * secret is shown once, when it is issued.
 */

export type TokenKind = "api" | "session";

export interface TokenRecord {
  /** Public token id (16 hex digits): the lookup key, safe to log and to show in lists. */
  readonly id: string;
  readonly actor: string;
  readonly kind: TokenKind;
  readonly label?: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly createdBy: string;
  readonly expiresAt: number;
  readonly revokedAt?: number;
  readonly revokedBy?: string;
  /** Issued but not yet usable: its issuance is not yet on the log (see IssueTokenRequest.pending). */
  readonly pending?: true;
}

export interface IssueTokenRequest {
  readonly actor: string;
  readonly kind: TokenKind;
  readonly ttlMs: number;
  readonly createdBy: string;
  readonly label?: string;
  readonly now?: number;
  /**
   * Store the token unusable until activateToken: the caller records the issuance (on the log) in
   * between, so that a token never works without its record — if recording fails, the token was
   * never usable, whether or not deleting it afterwards succeeds (a full disk refuses both).
   */
  readonly pending?: boolean;
}

/**
 * A password's length bounds, in UTF-16 code units. Every AuthStore's setPassword refuses other
 * lengths; the API checks requests against the same bounds (and its OpenAPI document states them).
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/**
 * Token lifetimes, in whole seconds: the one set of limits for the API (src/api/auth.ts, whose
 * schemas and OpenAPI document state them) and `radledger token create --ttl-days`.
 */
export const MIN_TOKEN_TTL_SECONDS = 60;
export const SESSION_TTL_SECONDS = 8 * 3600;
export const MAX_SESSION_TTL_SECONDS = 24 * 3600;
export const API_TOKEN_TTL_SECONDS = 90 * 86400;
export const MAX_API_TOKEN_TTL_SECONDS = 366 * 86400;

/** Whether `seconds` is an API token lifetime the node accepts (a whole number within the limits). */
export function isApiTokenTtl(seconds: number): boolean {
  return (
    Number.isSafeInteger(seconds) && seconds >= MIN_TOKEN_TTL_SECONDS && seconds <= MAX_API_TOKEN_TTL_SECONDS
  );
}

/**
 * A one-time enrolment code (docs/security.md "Key custody"): an admin issues it for a patient, who
 * redeems it once, signed in, to enrol a key of their own (their browser's). The code (24 Crockford
 * base32 digits, src/core/enrolment.ts) is shown once; the store keeps its public id and a slow hash
 * of its secret.
 */
export interface EnrolmentCodeRecord {
  /** Public id: the code's first 8 digits, named on the log (enrolment-code.issued). */
  readonly id: string;
  readonly actor: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly createdBy: string;
  readonly expiresAt: number;
  readonly usedAt?: number;
  /** Wrong codes tried for this actor while this code was open. */
  readonly attempts: number;
  /** Issued but not yet usable: its issuance is not yet on the log. */
  readonly pending?: true;
}

export interface IssueEnrolmentCodeRequest {
  readonly actor: string;
  readonly createdBy: string;
  readonly ttlMs: number;
  readonly now?: number;
}

/** Enrolment code lifetimes, in whole seconds: 24 hours unless asked otherwise, at most 30 days. */
export const ENROLMENT_CODE_TTL_SECONDS = 24 * 3600;
export const MIN_ENROLMENT_CODE_TTL_SECONDS = 60;
export const MAX_ENROLMENT_CODE_TTL_SECONDS = 30 * 86400;
/**
 * Wrong codes an actor may try before their open codes are void (ENROLMENT_CODE_EXHAUSTED). A code
 * has 80 secret bits, so guessing is hopeless anyway; the limit makes a guessing patient session (a
 * stolen one) stop early and visibly, and makes the registrar issue a new code.
 */
export const MAX_ENROLMENT_CODE_ATTEMPTS = 5;

export interface AuthStore {
  /** Issues a token; `token` (the secret) is returned once and never stored. */
  issueToken(request: IssueTokenRequest): Promise<{ token: string; record: TokenRecord }>;
  /**
   * The record of a presented token, or a coded error: AUTH_TOKEN_INVALID (malformed, unknown, wrong
   * secret, pending), AUTH_TOKEN_EXPIRED, AUTH_TOKEN_REVOKED (the last two only once the secret matched).
   */
  verifyToken(token: string, now?: number): Promise<TokenRecord>;
  /** Makes a pending token usable; returns the record, or undefined if there is no such token. */
  activateToken(id: string): TokenRecord | undefined;
  getToken(id: string): TokenRecord | undefined;
  listTokens(actor?: string): TokenRecord[];
  /** Revokes at once; returns the updated record, or undefined if there is no such token. */
  revokeToken(id: string, by: string, now?: number): TokenRecord | undefined;
  /** Revokes every unexpired token of an actor (e.g. after a password change); returns how many. */
  revokeTokensOf(actor: string, by: string, now?: number): number;
  setPassword(actor: string, password: string, by: string, now?: number): Promise<void>;
  /** Constant work whether or not the actor has a password, so timing tells nothing. */
  checkPassword(actor: string, password: string): Promise<boolean>;
  hasPassword(actor: string): boolean;
  /**
   * Who set the actor's current password (the actor itself after a change; an admin after enrolment
   * or a reset, which the actor must replace at the next sign-in), or undefined without one.
   */
  passwordSetBy(actor: string): string | undefined;
  /** Issues an enrolment code, stored pending (unusable) until activateEnrolmentCode. */
  issueEnrolmentCode(
    request: IssueEnrolmentCodeRequest,
  ): Promise<{ code: string; record: EnrolmentCodeRecord }>;
  activateEnrolmentCode(id: string): EnrolmentCodeRecord | undefined;
  /**
   * The record of a presented code for `actor`, unused and unexpired, or a coded error:
   * ENROLMENT_CODE_INVALID (malformed, unknown, another actor's, pending, wrong secret: each counts
   * an attempt against the actor's open codes), ENROLMENT_CODE_EXHAUSTED (too many attempts),
   * ENROLMENT_CODE_USED, ENROLMENT_CODE_EXPIRED (the last two only once the secret matched).
   */
  checkEnrolmentCode(actor: string, code: string, now?: number): Promise<EnrolmentCodeRecord>;
  /** Marks a code used (single use); returns the record, or undefined if there is no such code. */
  useEnrolmentCode(id: string, now?: number): EnrolmentCodeRecord | undefined;
  listEnrolmentCodes(actor?: string): EnrolmentCodeRecord[];
  close(): void;
}
