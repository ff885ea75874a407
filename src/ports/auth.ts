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
  close(): void;
}
