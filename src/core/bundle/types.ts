/**
 * The bundle verifier's public types (docs/bundle-format.md §4): what it reads (the bundle's files in
 * archive order), what it is told to trust, and the report it returns. verify.ts is the verifier;
 * these live apart so that its helpers (signers, failures, checkpoint checks, the report's text) and
 * the writer can name them without importing the orchestration.
 */
import type { ErrorCode } from "../errors.js";
import type { JsonObject } from "../canonical-json.js";
import type { CryptoSuite } from "../crypto.js";
import type { EntryChecker } from "./entry-check.js";
import type { BundleKind, BundleSubject } from "./format.js";
import type { BatchSignatureVerifier } from "./signatures.js";
import type { CosignatureResult } from "./cosignatures.js";
import type { LogKeySource, TrustState } from "./trust.js";

/** A bundle file held in memory (what the exporter produces; tests). */
export interface BundleMember {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/**
 * A bundle file as a source streams it (docs/bundle-format.md §4.2): a regular file of `size` bytes
 * — sources refuse anything else before yielding it (links, devices, FIFOs: src/app/bundle-verify.ts;
 * non-regular tar members: src/core/tar.ts) — whose content comes as chunks, read at most once and
 * before the next file is asked for. The verifier reads small structured files into memory up to a
 * bound per file and hashes payloads chunk by chunk, so memory does not grow with a member's size.
 */
export interface StreamedMember {
  readonly path: string;
  readonly size: number;
  chunks(): AsyncIterable<Uint8Array>;
}

/** What the verifier reads: files in memory or streamed, in archive order. */
export type BundleInput = BundleMember | StreamedMember;

export interface AgainstCheckpoint {
  /** The later checkpoint (signed note text), e.g. a log's /checkpoint saved to a file. */
  readonly checkpoint: string;
  /** RFC 9162 consistency proof from the bundle's size to the later size, if the caller has one. */
  readonly proof?: readonly Uint8Array[];
  /** Otherwise, how to get one (from the log's API or its tiles); called only when sizes differ. */
  readonly fetchProof?: (from: number, to: number) => Promise<readonly Uint8Array[]>;
}

export interface VerifyBundleOptions {
  readonly crypto: CryptoSuite;
  /** Ed25519 verification engine for the inline entry checker; default: inline through `crypto`. */
  readonly signatures?: BatchSignatureVerifier;
  /**
   * Runs the per-entry checks (leaf hash, signature), e.g. on worker threads; default: inline, with
   * `signatures`. The verifier closes what this returns.
   */
  readonly entryChecker?: () => EntryChecker;
  /**
   * Log verifier keys the user trusts. None (and no policy): the checks run against the bundle's own
   * key, and a bundle that passes them is UNTRUSTED, not VERIFIED (trust.ts).
   */
  readonly logKeys?: readonly string[];
  readonly witnessKeys?: readonly string[];
  /** Valid cosignatures by distinct named witnesses the checkpoint needs (default 0). */
  readonly minWitnesses?: number;
  /**
   * A consortium policy (C2SP tlog-policy text): its `log` keys are trusted like `logKeys`, its
   * witnesses are named witnesses, and its quorum must be met (POLICY_NOT_MET).
   */
  readonly policy?: string;
  readonly against?: AgainstCheckpoint;
  readonly onProgress?: (done: number, total: number) => void;
  /** Entries per batch of entry checks (default 512). */
  readonly batchSize?: number;
}

export interface BundleFailure {
  readonly code: ErrorCode;
  readonly message: string;
  /** The file (and line or byte) concerned. */
  readonly at?: string;
}

export interface SignerSummary {
  readonly actor: string;
  readonly key: string;
  readonly kind?: string;
  readonly displayName?: string;
  readonly roles?: readonly string[];
  readonly specialty?: string;
  /** Log index of the entry that enrolled the key (genesis, actor.enrolled or key.rotated). */
  readonly enrolledAt: number;
  readonly enrolledBy: string;
  /** Entries of the bundle this key signed. */
  readonly signed: number;
  /** The key's state as far as the bundle shows: retired or revoked entries end it (after what it signed). */
  readonly status: "active" | "retired" | "revoked";
  readonly endedAt?: number;
  readonly reason?: string;
}

export interface BundleReport {
  /** The verdict is VERIFIED: every check passed against a log key the user trusts. */
  readonly ok: boolean;
  /** The verdict (trust.ts): verified, untrusted (passed against the bundle's own key only), failed. */
  readonly trust: TrustState;
  readonly kind?: BundleKind;
  readonly subject?: BundleSubject;
  readonly log?: {
    readonly origin: string;
    readonly key: string;
    /** The key is one the user trusts (given, or named by the policy), not the bundle's own. */
    readonly keyPinned: boolean;
    readonly keySource: LogKeySource;
  };
  readonly checkpoint?: {
    readonly size: number;
    readonly root: string;
    readonly cosignatures: readonly CosignatureResult[];
    /** Names on signature lines by keys the verifier was not given (not checked, not trusted). */
    readonly unverifiedSignatures: readonly string[];
  };
  readonly against?: { readonly size: number; readonly root: string; readonly consistent: boolean };
  readonly entries: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly signers: readonly SignerSummary[];
  readonly payloads: {
    readonly disclosures: number;
    readonly files: number;
    readonly imageSets: number;
    readonly instances: number;
    readonly bytes: number;
  };
  /** References from the bundle's entries to entries it does not carry. */
  readonly externalRefs: number;
  /** What the kind's checks established, as sentences. */
  readonly findings: readonly string[];
  /** The record, summarised for display (per kind). */
  readonly record?: JsonObject;
  readonly warnings: readonly string[];
  readonly failures: readonly BundleFailure[];
  /** Failures beyond those listed (the list is capped). */
  readonly moreFailures: number;
}
