/**
 * What a bundle verification is trusted against, and the one verdict it ends in (docs/bundle-format.md
 * §4.1), shared by `radledger verify` and the browser verifier so that both say the same thing:
 *
 *  - VERIFIED: every check passed, and the checkpoint is signed by a log key the user trusts — one
 *    given with `--log-key` (the web page's key field) or named by a consortium policy file
 *    (C2SP tlog-policy, `--policy`), whose witness quorum the checkpoint then also meets;
 *  - UNTRUSTED: every check passed, but only against the log key the bundle itself carries. That
 *    proves the bundle consistent, not authentic: anyone can generate a key, sign entries and a
 *    checkpoint with it, and write it into a bundle;
 *  - FAILED: a check failed (or the bundle could not be read).
 *
 * The user's trust inputs are checked here before any bundle byte is read, and a malformed one is
 * the user's input error naming the option it came from — not a failure of the bundle.
 */
import type { CryptoSuite } from "../crypto.js";
import { bytesEqual } from "../bytes.js";
import { RadledgerError, isRadledgerError, type ErrorCode } from "../errors.js";
import { parseVerifierKey, SIG_TYPE_ED25519 } from "../note.js";
import { parsePolicy, quorumSatisfied, type Policy } from "../policy.js";
import { parseWitnessKey, type WitnessKey } from "./cosignatures.js";

export type TrustState = "verified" | "untrusted" | "failed";

/** The verdict's word, first on the report's first line and on the web page. */
export const TRUST_VERDICT: Readonly<Record<TrustState, string>> = {
  verified: "VERIFIED",
  untrusted: "UNTRUSTED",
  failed: "FAILED",
};

/** Where the log key a verification checked the checkpoint with came from. */
export type LogKeySource = "log-key" | "policy" | "bundle";

/** The one rule deciding the verdict: any failure fails; a pass is trusted only with a trusted log key. */
export function trustState(passed: boolean, logKeySource: LogKeySource | undefined): TrustState {
  if (!passed) return "failed";
  return logKeySource === "log-key" || logKeySource === "policy" ? "verified" : "untrusted";
}

export interface TrustedLogKey {
  /** The vkey text as given. */
  readonly text: string;
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly source: "log-key" | "policy";
}

/** The user's trust inputs, parsed. */
export interface TrustAnchors {
  readonly logKeys: readonly TrustedLogKey[];
  /** Named witnesses: `--witness-key` ones, then the policy's (each key once). */
  readonly witnesses: readonly WitnessKey[];
  readonly minWitnesses: number;
  readonly policy?: Policy;
}

export interface TrustInputs {
  readonly logKeys?: readonly string[];
  readonly witnessKeys?: readonly string[];
  readonly minWitnesses?: number;
  /** A C2SP tlog-policy text: its `log` lines are trusted log keys, its quorum is required. */
  readonly policy?: string;
}

/** A user input that is not what its option asks for; `at` names the option. */
function inputError(code: ErrorCode, at: string, message: string, cause: unknown): RadledgerError {
  const why = isRadledgerError(cause) || cause instanceof Error ? `: ${cause.message}` : "";
  return new RadledgerError(code, `${message}${why}`, { at }, { cause });
}

/**
 * Parses what the user trusts. Throws KEY_STRING_MALFORMED naming `--log-key` or `--witness-key`,
 * POLICY_INVALID for the policy, INPUT_INVALID for the quorum: errors of the input, not of a bundle.
 */
export function parseTrustAnchors(crypto: CryptoSuite, inputs: TrustInputs): TrustAnchors {
  const logKeys: TrustedLogKey[] = [];
  for (const text of inputs.logKeys ?? []) {
    let parsed: ReturnType<typeof parseVerifierKey>;
    try {
      parsed = parseVerifierKey(crypto, text);
    } catch (e) {
      throw inputError(
        "KEY_STRING_MALFORMED",
        "--log-key",
        "the --log-key given is not a log verifier key",
        e,
      );
    }
    if (parsed.type !== SIG_TYPE_ED25519)
      throw new RadledgerError(
        "KEY_STRING_MALFORMED",
        "the --log-key given is not a log verifier key: it is not of type Ed25519 (0x01) (a witness key goes with --witness-key)",
        { at: "--log-key" },
      );
    logKeys.push({ text: text.trim(), name: parsed.name, publicKey: parsed.publicKey, source: "log-key" });
  }
  const witnesses: WitnessKey[] = [];
  for (const text of inputs.witnessKeys ?? []) {
    try {
      witnesses.push(parseWitnessKey(crypto, text));
    } catch (e) {
      throw inputError(
        "KEY_STRING_MALFORMED",
        "--witness-key",
        "the --witness-key given is not a witness (cosignature/v1) verifier key",
        e,
      );
    }
  }
  const minWitnesses = inputs.minWitnesses ?? 0;
  if (!Number.isSafeInteger(minWitnesses) || minWitnesses < 0)
    throw new RadledgerError("INPUT_INVALID", "--min-witnesses must be a non-negative integer", {
      at: "--min-witnesses",
    });
  let policy: Policy | undefined;
  if (inputs.policy !== undefined) {
    try {
      policy = parsePolicy(crypto, inputs.policy);
    } catch (e) {
      throw inputError("POLICY_INVALID", "--policy", "the --policy given is not a C2SP tlog-policy", e);
    }
    for (const l of policy.logs)
      logKeys.push({
        text: l.vkey,
        name: l.verifier.name,
        publicKey: l.verifier.publicKey,
        source: "policy",
      });
    for (const w of policy.witnesses)
      if (!witnesses.some((x) => bytesEqual(x.publicKey, w.verifier.publicKey) && x.name === w.verifier.name))
        witnesses.push(parseWitnessKey(crypto, w.vkey));
  }
  return { logKeys, witnesses, minWitnesses, ...(policy ? { policy } : {}) };
}

/**
 * Whether the witnesses whose cosignatures verified (by vkey) meet the policy's quorum; the policy
 * names its witnesses locally, so they are matched by key.
 */
export function policyQuorumMet(
  policy: Policy,
  validWitnesses: readonly { name: string; publicKey: Uint8Array }[],
): boolean {
  const cosigned = new Set(
    policy.witnesses
      .filter((w) =>
        validWitnesses.some(
          (v) => v.name === w.verifier.name && bytesEqual(v.publicKey, w.verifier.publicKey),
        ),
      )
      .map((w) => w.name),
  );
  return quorumSatisfied(policy, cosigned);
}
