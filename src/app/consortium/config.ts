/**
 * A node's consortium configuration and files:
 *
 *   DIR/consortium.json     peers (logs this node witnesses and mirrors), witnesses (that cosign this
 *                           node's checkpoints), the quorum k, intervals, anchoring endpoint
 *   DIR/keys/witness.key    the witness's own Ed25519 key (cosignature/v1), mode 0600
 *   DIR/keys/evm.key        the EVM account key used for anchoring (0x + 64 hex), mode 0600
 *   DIR/witness.sqlite      witness state and the evidence register
 *   DIR/consortium.sqlite   published cosigned checkpoints, witness status, anchoring transactions
 *   DIR/mirrors/<sha256(origin) hex>.sqlite   one mirrored log per peer (tlog-mirror's origin hash)
 *
 * Peers' and witnesses' keys and URLs are typed in by an operator (or pasted from
 * `radledger consortium info`): each is parsed and checked before it is written.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CryptoSuite } from "../../core/crypto.js";
import { toHex, utf8 } from "../../core/bytes.js";
import {
  formatCosignatureVerifierKey,
  formatCosignerKey,
  parseCosignatureVerifierKey,
  parseCosignerKey,
  parseLogVerifierKey,
  type Cosigner,
} from "../../core/cosignature.js";
import { RadledgerError } from "../../core/errors.js";
import { isValidKeyName } from "../../core/note.js";
import { thresholdPolicy, type Policy, type PolicyWitness } from "../../core/policy.js";
import { keyBackend, readConfig, readSecret, writeSecret } from "../data-dir.js";
import { currentLogVerifierKey } from "../keys.js";

export interface PeerConfig {
  readonly origin: string;
  readonly url: string;
  /** The peer's log verifier key (type 0x01, name = origin). */
  readonly vkey: string;
}

export interface WitnessConfig {
  /** Local name used in the policy (tlog-policy `witness <name> …`). */
  readonly name: string;
  /** Submission prefix: requests go to `<url>/add-checkpoint`. */
  readonly url: string;
  /** The witness's cosignature/v1 verifier key (type 0x04). */
  readonly vkey: string;
}

export interface AnchorConfig {
  readonly rpcUrl: string;
  /** RadledgerConsortium address; anchoring is inactive until it is set. */
  readonly contract?: string;
  /** Seconds between anchoring attempts when serving. */
  readonly intervalSeconds: number;
}

export interface ConsortiumConfig {
  readonly version: 1;
  readonly peers: readonly PeerConfig[];
  readonly witnesses: readonly WitnessConfig[];
  /** k: cosignatures by configured witnesses that make a checkpoint final (0: no witnessing needed). */
  readonly quorum: number;
  readonly mirrorIntervalMs: number;
  readonly cosignTimeoutMs: number;
  readonly anchor?: AnchorConfig;
}

export const DEFAULT_CONSORTIUM_CONFIG: ConsortiumConfig = {
  version: 1,
  peers: [],
  witnesses: [],
  quorum: 0,
  mirrorIntervalMs: 5000,
  cosignTimeoutMs: 5000,
};

export const consortiumPaths = (dir: string) => ({
  config: join(dir, "consortium.json"),
  witnessKey: join(dir, "keys", "witness.key"),
  evmKey: join(dir, "keys", "evm.key"),
  witnessDb: join(dir, "witness.sqlite"),
  consortiumDb: join(dir, "consortium.sqlite"),
  mirrors: join(dir, "mirrors"),
});

export function mirrorPath(crypto: CryptoSuite, dir: string, origin: string): string {
  return join(consortiumPaths(dir).mirrors, `${toHex(crypto.sha256(utf8(origin)))}.sqlite`);
}

function invalid(message: string): never {
  throw new RadledgerError("CONSORTIUM_CONFIG_INVALID", message);
}

function checkUrl(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return invalid(`${what} is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") invalid(`${what} must be http(s)`);
  if (u.search || u.hash || u.username || u.password)
    invalid(`${what} must have no query, fragment or credentials`);
  return url.replace(/\/+$/, "");
}

const WITNESS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function readConsortiumConfig(dir: string): ConsortiumConfig {
  readConfig(dir);
  const p = consortiumPaths(dir).config;
  if (!existsSync(p)) return DEFAULT_CONSORTIUM_CONFIG;
  let raw: Partial<ConsortiumConfig>;
  try {
    raw = JSON.parse(readFileSync(p, "utf8")) as Partial<ConsortiumConfig>;
  } catch {
    return invalid(`${p} is not JSON`);
  }
  if (raw.version !== 1) invalid(`unsupported consortium config version in ${p}`);
  return { ...DEFAULT_CONSORTIUM_CONFIG, ...raw };
}

export function writeConsortiumConfig(dir: string, config: ConsortiumConfig): void {
  const p = consortiumPaths(dir).config;
  const tmp = `${p}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + "\n");
  renameSync(tmp, p);
}

export function addPeer(
  crypto: CryptoSuite,
  dir: string,
  origin: string,
  url: string,
  vkey: string,
): ConsortiumConfig {
  const own = readConfig(dir).origin;
  if (!isValidKeyName(origin)) invalid("a peer origin has no spaces or '+'");
  if (origin === own) invalid("a node does not peer with its own log");
  const key = parseLogVerifierKey(crypto, vkey);
  if (key.name !== origin) invalid(`the peer's verifier key is for ${key.name}, not ${origin}`);
  const peer: PeerConfig = { origin, url: checkUrl(url, "peer URL"), vkey: vkey.trim() };
  const c = readConsortiumConfig(dir);
  const next = { ...c, peers: [...c.peers.filter((p) => p.origin !== origin), peer] };
  writeConsortiumConfig(dir, next);
  return next;
}

export function removePeer(dir: string, origin: string): ConsortiumConfig {
  const c = readConsortiumConfig(dir);
  if (!c.peers.some((p) => p.origin === origin))
    throw new RadledgerError("PEER_UNKNOWN", `no peer ${origin}`);
  const next = { ...c, peers: c.peers.filter((p) => p.origin !== origin) };
  writeConsortiumConfig(dir, next);
  return next;
}

export function addWitness(
  crypto: CryptoSuite,
  dir: string,
  name: string,
  url: string,
  vkey: string,
): ConsortiumConfig {
  if (!WITNESS_NAME.test(name) || name === "none" || name === "consortium")
    invalid("a witness name is 1-64 of [A-Za-z0-9._-], not none or consortium");
  const key = parseCosignatureVerifierKey(crypto, vkey);
  const ownVkey = ownWitnessVerifierKey(crypto, dir);
  const own = ownVkey === undefined ? undefined : parseCosignatureVerifierKey(crypto, ownVkey);
  if (own && toHex(own.publicKey) === toHex(key.publicKey))
    invalid("a node's own witness does not cosign its own log");
  const w: WitnessConfig = { name, url: checkUrl(url, "witness URL"), vkey: vkey.trim() };
  const c = readConsortiumConfig(dir);
  const others = c.witnesses.filter((x) => x.name !== name);
  if (
    others.some((x) => toHex(parseCosignatureVerifierKey(crypto, x.vkey).publicKey) === toHex(key.publicKey))
  )
    invalid("another witness already has that key (tlog-policy: no duplicate keys)");
  const next = { ...c, witnesses: [...others, w] };
  writeConsortiumConfig(dir, { ...next, quorum: Math.min(next.quorum, next.witnesses.length) });
  return readConsortiumConfig(dir);
}

export function removeWitness(dir: string, name: string): ConsortiumConfig {
  const c = readConsortiumConfig(dir);
  if (!c.witnesses.some((w) => w.name === name))
    throw new RadledgerError("CONSORTIUM_CONFIG_INVALID", `no witness named ${name}`);
  const witnesses = c.witnesses.filter((w) => w.name !== name);
  const next = { ...c, witnesses, quorum: Math.min(c.quorum, witnesses.length) };
  writeConsortiumConfig(dir, next);
  return next;
}

export function setQuorum(dir: string, k: number): ConsortiumConfig {
  const c = readConsortiumConfig(dir);
  if (!Number.isInteger(k) || k < 0 || k > c.witnesses.length)
    throw new RadledgerError(
      "POLICY_INVALID",
      `quorum must be between 0 and ${c.witnesses.length} (the configured witnesses)`,
    );
  const next = { ...c, quorum: k };
  writeConsortiumConfig(dir, next);
  return next;
}

export function setAnchorConfig(dir: string, anchor: AnchorConfig): ConsortiumConfig {
  checkUrl(anchor.rpcUrl, "RPC URL");
  if (anchor.contract !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(anchor.contract))
    invalid("the contract address must be 0x and 40 hex digits");
  if (!Number.isInteger(anchor.intervalSeconds) || anchor.intervalSeconds < 1)
    invalid("the anchoring interval is a whole number of seconds ≥ 1");
  const next = { ...readConsortiumConfig(dir), anchor };
  writeConsortiumConfig(dir, next);
  return next;
}

/** Stores the EVM account key used for anchoring (DIR/keys/evm.key, mode 0600), replacing any. */
export function writeEvmKey(dir: string, key: string): void {
  const k = key.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(k))
    throw new RadledgerError("EVM_INVALID_CONFIG", "an EVM key is 0x followed by 64 hex digits");
  const p = consortiumPaths(dir).evmKey;
  rmSync(p, { force: true });
  writeSecret(p, k + "\n");
}

/** The witness key name: the log origin with /log replaced by /witness (a schema-less URL). */
export function witnessKeyName(origin: string): string {
  return origin.endsWith("/log") ? `${origin.slice(0, -4)}/witness` : `${origin}/witness`;
}

/** Creates DIR/keys/witness.key (never overwriting one). Returns the published verifier key. */
export function createWitnessKey(crypto: CryptoSuite, dir: string, name?: string): string {
  const p = consortiumPaths(dir).witnessKey;
  if (existsSync(p)) throw new RadledgerError("STORE_EXISTS", `${p} already exists`);
  const keys = keyBackend(readConfig(dir));
  if (keys.backend === "pkcs11")
    throw new RadledgerError(
      "KEY_BACKEND_CONFIG_INVALID",
      "this node's keys are on an HSM: its witness key is the token's key labelled labels.witness (made by init --keys pkcs11)",
    );
  const keyName = name ?? witnessKeyName(readConfig(dir).origin);
  if (!isValidKeyName(keyName)) invalid("invalid witness key name");
  mkdirSync(join(dir, "keys"), { recursive: true, mode: 0o700 });
  writeSecret(p, formatCosignerKey(crypto, keyName, crypto.randomBytes(32)) + "\n");
  return formatCosignatureVerifierKey(readWitnessKey(crypto, dir));
}

/**
 * This node's witness verifier key (public), wherever the key lives: keys/witness.key, or the HSM
 * (config.json records the verifier key when `init --keys pkcs11` provisions it). Undefined if none.
 */
export function ownWitnessVerifierKey(crypto: CryptoSuite, dir: string): string | undefined {
  const keys = keyBackend(readConfig(dir));
  if (keys.backend === "pkcs11") return keys.witnessVerifierKey;
  return existsSync(consortiumPaths(dir).witnessKey)
    ? formatCosignatureVerifierKey(readWitnessKey(crypto, dir))
    : undefined;
}

/** ownWitnessVerifierKey, or CONSORTIUM_NOT_CONFIGURED when the node has no witness key. */
export function requireWitnessKey(crypto: CryptoSuite, dir: string): string {
  const vkey = ownWitnessVerifierKey(crypto, dir);
  if (vkey === undefined)
    throw new RadledgerError(
      "CONSORTIUM_NOT_CONFIGURED",
      "no witness key (run radledger consortium init-witness)",
    );
  return vkey;
}

/** The file backend's witness key (keys/witness.key). */
export function readWitnessKey(crypto: CryptoSuite, dir: string): Cosigner & { seed: Uint8Array } {
  const p = consortiumPaths(dir).witnessKey;
  if (!existsSync(p))
    throw new RadledgerError(
      "CONSORTIUM_NOT_CONFIGURED",
      "no witness key (run radledger consortium init-witness)",
    );
  return parseCosignerKey(crypto, readSecret(p));
}

/** The policy for this node's own checkpoints: its log key, its witnesses, k of them. */
export function ownPolicy(crypto: CryptoSuite, dir: string, config: ConsortiumConfig): Policy {
  const vkey = currentLogVerifierKey(crypto, dir);
  const logs = [{ vkey, verifier: parseLogVerifierKey(crypto, vkey) }];
  return thresholdPolicy(logs, witnessEntries(crypto, config), config.quorum);
}

/**
 * The policy for mirroring peers: their checkpoints need k cosignatures from the witnesses this
 * node knows — its configured witnesses and its own.
 */
export function mirrorPolicy(crypto: CryptoSuite, dir: string, config: ConsortiumConfig): Policy {
  const witnesses = witnessEntries(crypto, config);
  const own = ownWitnessVerifierKey(crypto, dir);
  if (own !== undefined) {
    witnesses.push({ name: "self", vkey: own, verifier: parseCosignatureVerifierKey(crypto, own) });
  }
  const logs = config.peers.map((p) => ({
    vkey: p.vkey,
    verifier: parseLogVerifierKey(crypto, p.vkey),
    url: p.url,
  }));
  return thresholdPolicy(logs, witnesses, Math.min(config.quorum, witnesses.length));
}

function witnessEntries(crypto: CryptoSuite, config: ConsortiumConfig): PolicyWitness[] {
  return config.witnesses.map((w) => ({
    name: w.name,
    vkey: w.vkey,
    verifier: parseCosignatureVerifierKey(crypto, w.vkey),
    url: w.url,
  }));
}

/** Reads the EVM account key file: 0x + 64 hex digits (never echoed). */
export function readEvmKey(dir: string): `0x${string}` {
  const p = consortiumPaths(dir).evmKey;
  if (!existsSync(p))
    throw new RadledgerError(
      "CONSORTIUM_NOT_CONFIGURED",
      `no EVM account key at ${p} (radledger anchor configure)`,
    );
  const key = readSecret(p);
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new RadledgerError("EVM_INVALID_CONFIG", `${p} must hold 0x followed by 64 hex digits`);
  return key as `0x${string}`;
}
