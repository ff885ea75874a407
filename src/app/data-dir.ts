/**
 * The data directory of a node: configuration, secrets and the SQLite log. Secrets are files with
 * mode 0600 inside directories with mode 0700; they never appear in logs or errors.
 *
 *   DIR/config.json             origin, institution name, creation time, key backend (docs/security.md §Keys),
 *                               break-glass roles (optional)
 *   DIR/keys/log.key            the log key (C2SP signer key string): signs checkpoints and institution entries
 *                               (file backend only; with PKCS#11 the log, witness and vault master keys are in the HSM)
 *   DIR/keys/actors/<id>.key    keys the node holds for actors who do not hold their own
 *   DIR/keys/pseudonym.secret   HMAC key for patient pseudonyms (docs/design.md §5.1)
 *   DIR/keys/vault.master       AES-256 key wrapping the vault's per-patient data keys
 *   DIR/keys/patient-keys.sqlite the vault's key store: wrapped per-patient data keys, erasure
 *                               tombstones (never in a data backup: docs/security.md §Erasure and backups)
 *   DIR/ledger.sqlite           entries, tiles, checkpoints, projections
 *   DIR/checkpoint.mark         the high-water mark: the latest signed checkpoint, kept outside ledger.sqlite,
 *                               replaced durably before each batch is acknowledged (docs/security.md §High-water mark)
 *   DIR/vault.sqlite            off-ledger content behind commitments, encrypted per patient (ciphertext only)
 *   DIR/auth.sqlite             node-local API credentials: scrypt hashes of tokens and passwords (never on the log)
 *   DIR/manifests.sqlite        per-instance DICOM hashes behind study manifest roots, de-identified
 *                               copies, Orthanc feed cursors (node-local; never on the ledger)
 *   DIR/alarms.sqlite           alarms for the administrator, e.g. an AI result naming an unknown model
 *   DIR/writer.lock.sqlite      the single-writer lock: a SQLite file the appending process holds an
 *                               exclusive OS lock on, released when it exits or dies (src/adapters/sqlite/writer-lock.ts)
 *   DIR/node.sock               the serving node's local socket (mode 0600): the command line's
 *                               writing verbs run through it while `radledger serve` holds the lock
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { lstatSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RadledgerError } from "../core/errors.js";
import { DEFAULT_BREAK_GLASS_ROLES, parseBreakGlassRoles } from "../domain/access/break-glass.js";
import type { AdmissionPolicy } from "../domain/ledger/entry-types.js";

export interface NodeConfig {
  readonly version: 1;
  readonly origin: string;
  readonly institutionName: string;
  readonly createdAt: string;
  /**
   * Roles that may break the glass (docs/families/access.md, "Break-glass policy"); absent: the
   * default, radiologist and clinician. Validated when the node starts (CONFIG_INVALID).
   */
  readonly breakGlassRoles?: readonly string[];
  /** Where the node's own keys live; absent means files of the data directory (the embedded default). */
  readonly keys?: KeyBackendConfig;
}

/** The admission policy a node's configuration sets (src/domain/ledger/entry-types.ts). */
export function admissionPolicy(config: NodeConfig): AdmissionPolicy {
  return {
    breakGlassRoles:
      config.breakGlassRoles === undefined
        ? DEFAULT_BREAK_GLASS_ROLES
        : parseBreakGlassRoles(config.breakGlassRoles),
  };
}

/**
 * The PKCS#11 key backend (docs/security.md §Keys): the log, vault master and (optional) witness keys
 * are keys on an HSM token, found by label. The PIN is never in config.json: it is read from the
 * environment variable `pinEnv` or the file `pinFile` (exactly one of them).
 */
export interface Pkcs11KeyConfig {
  readonly backend: "pkcs11";
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  readonly module: string;
  /** Label of the token. */
  readonly token: string;
  readonly pinEnv?: string;
  readonly pinFile?: string;
  readonly labels: { readonly log: string; readonly vault: string; readonly witness?: string };
  /**
   * The current log key's verifier key (public): what `radledger verify --data` trusts and what the
   * node checks the HSM's key against when it opens.
   */
  readonly logVerifierKey: string;
  /** The witness key's cosignature/v1 verifier key (public), when labels.witness is set. */
  readonly witnessVerifierKey?: string;
}

export type KeyBackendConfig = { readonly backend: "file" } | Pkcs11KeyConfig;

export const DEFAULT_PIN_ENV = "RADLEDGER_HSM_PIN";

function invalidKeys(message: string): never {
  throw new RadledgerError("KEY_BACKEND_CONFIG_INVALID", `config.json keys: ${message}`);
}

/** The key backend of a config, checked. */
export function keyBackend(config: NodeConfig): KeyBackendConfig {
  const k = config.keys as Partial<Pkcs11KeyConfig> | { backend?: unknown } | undefined;
  if (k === undefined || k.backend === "file") return { backend: "file" };
  if (k.backend !== "pkcs11") return invalidKeys('backend must be "file" or "pkcs11"');
  const p = k as Partial<Pkcs11KeyConfig>;
  const text = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 4096;
  if (!text(p.module)) invalidKeys("pkcs11 needs module (the path of the PKCS#11 library)");
  if (!text(p.token)) invalidKeys("pkcs11 needs token (the token label)");
  if ((p.pinEnv === undefined) === (p.pinFile === undefined))
    invalidKeys("pkcs11 needs exactly one of pinEnv (an environment variable) and pinFile (a file path)");
  if (p.pinEnv !== undefined && !(text(p.pinEnv) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(p.pinEnv)))
    invalidKeys("pinEnv must name an environment variable");
  if (p.pinFile !== undefined && !text(p.pinFile)) invalidKeys("pinFile must be a path");
  const labels = p.labels as Partial<Pkcs11KeyConfig["labels"]> | undefined;
  if (
    !labels ||
    !text(labels.log) ||
    !text(labels.vault) ||
    (labels.witness !== undefined && !text(labels.witness))
  )
    invalidKeys("pkcs11 needs labels.log and labels.vault (and optionally labels.witness)");
  if (!text(p.logVerifierKey)) invalidKeys("pkcs11 needs logVerifierKey");
  return p as Pkcs11KeyConfig;
}

/** The user PIN of a PKCS#11 backend, from its environment variable or file (KEY_BACKEND_PIN_MISSING). */
export function readPin(
  keys: Pick<Pkcs11KeyConfig, "pinEnv" | "pinFile">,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (keys.pinEnv !== undefined) {
    const pin = env[keys.pinEnv];
    if (pin === undefined || pin === "")
      throw new RadledgerError("KEY_BACKEND_PIN_MISSING", `the HSM PIN variable ${keys.pinEnv} is not set`);
    return pin;
  }
  try {
    const pin = readFileSync(keys.pinFile!, "utf8").trim();
    if (pin !== "") return pin;
  } catch {
    // reported below, without the path's content
  }
  throw new RadledgerError("KEY_BACKEND_PIN_MISSING", `cannot read the HSM PIN from ${keys.pinFile}`);
}

/** Replaces config.json atomically (a key rotation records the new current key). */
export function writeConfig(dir: string, config: NodeConfig): void {
  const p = paths(dir).config;
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + "\n", { flag: "w" });
  renameSync(tmp, p);
}

export const paths = (dir: string) => ({
  config: join(dir, "config.json"),
  keys: join(dir, "keys"),
  logKey: join(dir, "keys", "log.key"),
  /** A new log key during a rotation, before it replaces log.key. */
  nextLogKey: join(dir, "keys", "log.next.key"),
  actorKeys: join(dir, "keys", "actors"),
  actorKey: (actor: string) => join(dir, "keys", "actors", `${actor}.key`),
  pseudonymSecret: join(dir, "keys", "pseudonym.secret"),
  vaultMasterKey: join(dir, "keys", "vault.master"),
  vaultKeys: join(dir, "keys", "patient-keys.sqlite"),
  database: join(dir, "ledger.sqlite"),
  /** The high-water mark (src/adapters/fs/checkpoint-mark.ts). */
  mark: join(dir, "checkpoint.mark"),
  vault: join(dir, "vault.sqlite"),
  auth: join(dir, "auth.sqlite"),
  manifests: join(dir, "manifests.sqlite"),
  /** Alarms for the administrator (src/adapters/sqlite/alarm-store.ts). */
  alarms: join(dir, "alarms.sqlite"),
  /** The single-writer lock (src/adapters/sqlite/writer-lock.ts). */
  lock: join(dir, "writer.lock.sqlite"),
});

export function readConfig(dir: string): NodeConfig {
  const p = paths(dir).config;
  if (!existsSync(p))
    throw new RadledgerError("STORE_NOT_FOUND", `no radledger data directory at ${dir} (run radledger init)`);
  const config = JSON.parse(readFileSync(p, "utf8")) as Partial<Record<keyof NodeConfig, unknown>>;
  if (config.version !== 1 || typeof config.origin !== "string" || typeof config.institutionName !== "string")
    throw new RadledgerError("STORE_CORRUPT", `unsupported config in ${p}`);
  // Settings are checked here, when a node or a reader opens the directory, not at first use.
  if (config.breakGlassRoles !== undefined) parseBreakGlassRoles(config.breakGlassRoles);
  keyBackend(config as unknown as NodeConfig);
  return config as unknown as NodeConfig;
}

export function writeSecret(path: string, content: string): void {
  // 'wx': never overwrite an existing secret.
  writeFileSync(path, content, { mode: 0o600, flag: "wx" });
}

export function readSecret(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    throw new RadledgerError("STORE_NOT_FOUND", `missing secret file ${path}`);
  }
}

export function createDataDir(dir: string, config: NodeConfig): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new RadledgerError(
      "STORE_EXISTS",
      `${dir} already exists and is not empty; refusing to overwrite a data directory`,
    );
  }
  const p = paths(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(p.actorKeys, { recursive: true, mode: 0o700 });
  writeFileSync(p.config, JSON.stringify(config, null, 2) + "\n", { flag: "wx" });
}

/** Longest socket path that fits sockaddr_un.sun_path (108 bytes on Linux, 104 on macOS) with room. */
const MAX_SOCKET_PATH = 100;

/**
 * Where the serving node's local socket is: DIR/node.sock, or — when that path is too long for a
 * Unix socket — a file named after the directory in a private folder of this user under the system's
 * temporary directory. Both ends compute the same path; `prepare` (the server) creates the private
 * folder. Either way only this user can reach it: the data directory is 0700, the private folder
 * 0700 and checked (owner, mode, not a link) before anyone connects or listens, so that another local
 * user cannot plant a socket there.
 */
export function localSocketPath(dir: string, prepare = false): string {
  const direct = resolve(dir, "node.sock");
  if (Buffer.byteLength(direct) <= MAX_SOCKET_PATH) return direct;
  const uid = process.getuid?.() ?? 0;
  const folder = join(tmpdir(), `radledger-${uid}`);
  if (prepare) mkdirSync(folder, { recursive: true, mode: 0o700 });
  const path = join(
    folder,
    `${createHash("sha256").update(realpathSync(dir)).digest("hex").slice(0, 24)}.sock`,
  );
  let info;
  try {
    info = lstatSync(folder);
  } catch {
    return path; // nothing serves there: connecting fails as for a node that is not running
  }
  if (!info.isDirectory() || info.uid !== uid || (info.mode & 0o077) !== 0)
    throw new RadledgerError(
      "STORE_CORRUPT",
      `${folder} must be a directory of this user with mode 0700; refusing to use it for the node's socket`,
    );
  return path;
}
