/**
 * C2SP tlog-policy (c2sp.org/tlog-policy): which logs and witnesses a verifier trusts and the quorum
 * of cosignatures that makes a checkpoint valid. A node writes its consortium policy in this format
 * (`radledger consortium policy`), and the same evaluation decides when a checkpoint is *final*.
 *
 *   log <vkey> [<url>]
 *   witness <name> <vkey> [<url>]
 *   group <name> all|any|<k> <name>...
 *   quorum <name>|none
 *
 * Policy files are configuration, but may be handed over by other parties: parsing follows the
 * spec's rules (names defined before use, each member once, 1 ≤ k ≤ n, no duplicate keys, only tab
 * and newline as control characters) and fails with POLICY_INVALID.
 */
import type { CryptoSuite } from "./crypto.js";
import { bytesEqual } from "./bytes.js";
import {
  checkCosignatures,
  parseCosignatureVerifierKey,
  parseLogVerifierKey,
  type CosignatureVerifier,
} from "./cosignature.js";
import { RadledgerError } from "./errors.js";
import type { Ed25519NoteKey, NoteVerifier, SignedNote } from "./note.js";

export interface PolicyLog {
  readonly vkey: string;
  readonly verifier: NoteVerifier & Ed25519NoteKey;
  readonly url?: string;
}

export interface PolicyWitness {
  readonly name: string;
  readonly vkey: string;
  readonly verifier: CosignatureVerifier;
  readonly url?: string;
}

export interface PolicyGroup {
  readonly name: string;
  /** Members needed (1..members.length). */
  readonly k: number;
  /** How the threshold was written: kept so that formatting round-trips. */
  readonly threshold: "all" | "any" | number;
  readonly members: readonly string[];
}

export interface Policy {
  readonly logs: readonly PolicyLog[];
  readonly witnesses: readonly PolicyWitness[];
  readonly groups: readonly PolicyGroup[];
  /** A witness or group name, or "none". */
  readonly quorum: string;
}

const MAX_ITEMS = 64;

function invalid(line: number, message: string): never {
  throw new RadledgerError("POLICY_INVALID", `policy line ${line}: ${message}`, { at: `line ${line}` });
}

export function parsePolicy(crypto: CryptoSuite, text: string): Policy {
  // eslint-disable-next-line no-control-regex -- tlog-policy §Character set allows only tab and newline
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text))
    throw new RadledgerError(
      "POLICY_INVALID",
      "policy contains control characters other than tab and newline",
    );
  const logs: PolicyLog[] = [];
  const witnesses: PolicyWitness[] = [];
  const groups: PolicyGroup[] = [];
  const names = new Set<string>();
  let quorum: string | undefined;
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const n = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const f = trimmed.split(/[ \t]+/);
    const kind = f[0]!;
    const publicKeys = (): Uint8Array[] => [
      ...logs.map((l) => l.verifier.publicKey),
      ...witnesses.map((w) => w.verifier.publicKey),
    ];
    const key = <T extends { publicKey: Uint8Array }>(parse: () => T): T => {
      let k: T;
      try {
        k = parse();
      } catch (e) {
        return invalid(n, (e as Error).message);
      }
      if (publicKeys().some((p) => bytesEqual(p, k.publicKey))) invalid(n, "duplicate public key");
      return k;
    };
    if (kind === "log") {
      if (f.length < 2 || f.length > 3) invalid(n, "expected: log <vkey> [<url>]");
      const verifier = key(() => parseLogVerifierKey(crypto, f[1]!));
      logs.push({ vkey: f[1]!, verifier, ...(f[2] === undefined ? {} : { url: f[2] }) });
    } else if (kind === "witness") {
      if (f.length < 3 || f.length > 4) invalid(n, "expected: witness <name> <vkey> [<url>]");
      const name = f[1]!;
      if (name === "none" || names.has(name)) invalid(n, `name ${name} is reserved or already defined`);
      const verifier = key(() => parseCosignatureVerifierKey(crypto, f[2]!));
      names.add(name);
      witnesses.push({ name, vkey: f[2]!, verifier, ...(f[3] === undefined ? {} : { url: f[3] }) });
    } else if (kind === "group") {
      if (f.length < 4) invalid(n, "expected: group <name> all|any|<k> <name>...");
      const name = f[1]!;
      if (name === "none" || names.has(name)) invalid(n, `name ${name} is reserved or already defined`);
      const members = f.slice(3);
      if (new Set(members).size !== members.length) invalid(n, "a member is listed twice");
      for (const m of members) if (!names.has(m)) invalid(n, `member ${m} is not defined on an earlier line`);
      const t = f[2]!;
      let k: number;
      let threshold: PolicyGroup["threshold"];
      if (t === "all") [k, threshold] = [members.length, "all"];
      else if (t === "any") [k, threshold] = [1, "any"];
      else {
        if (!/^[1-9][0-9]{0,2}$/.test(t)) invalid(n, "threshold must be all, any or a decimal k");
        k = Number(t);
        threshold = k;
        if (k > members.length) invalid(n, "k is larger than the number of members");
      }
      names.add(name);
      groups.push({ name, k, threshold, members });
    } else if (kind === "quorum") {
      if (quorum !== undefined) invalid(n, "more than one quorum line");
      if (f.length !== 2) invalid(n, "expected: quorum <name>|none");
      if (f[1] !== "none" && !names.has(f[1]!))
        invalid(n, `quorum ${f[1]} is not defined on an earlier line`);
      quorum = f[1]!;
    } else {
      invalid(n, `unknown line type ${kind.slice(0, 20)}`);
    }
    if (logs.length + witnesses.length + groups.length > MAX_ITEMS)
      invalid(n, "too many logs, witnesses and groups");
  });
  if (quorum === undefined) throw new RadledgerError("POLICY_INVALID", "policy has no quorum line");
  return { logs, witnesses, groups, quorum };
}

export function formatPolicy(policy: Policy): string {
  const out: string[] = [];
  for (const l of policy.logs) out.push(["log", l.vkey, ...(l.url ? [l.url] : [])].join(" "));
  for (const w of policy.witnesses)
    out.push(["witness", w.name, w.vkey, ...(w.url ? [w.url] : [])].join(" "));
  for (const g of policy.groups) out.push(["group", g.name, String(g.threshold), ...g.members].join(" "));
  out.push(`quorum ${policy.quorum}`);
  return out.join("\n") + "\n";
}

/** Whether the witnesses named in `cosigned` satisfy the policy's quorum. */
export function quorumSatisfied(policy: Policy, cosigned: ReadonlySet<string>): boolean {
  if (policy.quorum === "none") return true;
  const groups = new Map(policy.groups.map((g) => [g.name, g]));
  const holds = (name: string): boolean => {
    const g = groups.get(name);
    if (!g) return cosigned.has(name);
    return g.members.filter(holds).length >= g.k;
  };
  return holds(policy.quorum);
}

export interface PolicyVerdict {
  readonly ok: boolean;
  /** Policy names of the witnesses whose cosignatures verified. */
  readonly cosignedBy: readonly string[];
  /** Witnesses with a signature line that did not verify. */
  readonly invalid: readonly string[];
}

/**
 * Evaluates the cosignatures on a checkpoint note (whose log signature the caller has verified)
 * against the policy. Cosignatures by keys the policy does not list are ignored.
 */
export function evaluatePolicy(policy: Policy, note: SignedNote): PolicyVerdict {
  const { valid, invalid } = checkCosignatures(
    note,
    policy.witnesses.map((w) => w.verifier),
  );
  const cosignedBy = policy.witnesses
    .filter((w) => valid.some((v) => v.witness === w.verifier))
    .map((w) => w.name);
  return { ok: quorumSatisfied(policy, new Set(cosignedBy)), cosignedBy, invalid };
}

/** The simple consortium shape: witnesses w1..wn and a k-of-n quorum (k = 0 means none). */
export function thresholdPolicy(
  logs: readonly PolicyLog[],
  witnesses: readonly PolicyWitness[],
  k: number,
): Policy {
  if (!Number.isInteger(k) || k < 0 || k > witnesses.length)
    throw new RadledgerError("POLICY_INVALID", `quorum ${k} is not between 0 and ${witnesses.length}`);
  if (k === 0) return { logs, witnesses, groups: [], quorum: "none" };
  const group: PolicyGroup = {
    name: "consortium",
    k,
    threshold: k === witnesses.length ? "all" : k === 1 ? "any" : k,
    members: witnesses.map((w) => w.name),
  };
  return { logs, witnesses, groups: [group], quorum: "consortium" };
}
