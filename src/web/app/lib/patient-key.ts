/**
 * The patient's own key in the browser (docs/security.md "Key custody"; issue 20, Patient): an
 * Ed25519 key pair made by WebCrypto as non-extractable — the browser signs with it but never hands
 * out its private half, not to this page's script either — kept in IndexedDB per actor id, enrolled
 * with the registrar's one-time enrolment code, and used to sign the patient's consent entries
 * exactly as the node's canonical encoding expects (src/core/entry.ts, docs/log-format.md §Entries).
 * After enrolment the node holds no key of the patient's and cannot sign a grant or a revocation
 * for them; what this module signs is what the log admits.
 *
 * Pure browser TypeScript, no framework: the pages (src/web/app) call it. It imports only the pure
 * core, the same code the node runs, so the bytes signed here are the bytes the node checks.
 *
 * WebCrypto Ed25519: https://w3c.github.io/webcrypto/#ed25519 (Secure Curves in the Web
 * Cryptography API); a CryptoKey is structured-cloneable, so IndexedDB stores the key object itself
 * and its [[extractable]] slot stays false (WebCrypto §CryptoKey, "Serialization").
 */
import { toBase64, toHex } from "../../../core/bytes.js";
import { canonicalBytes, type JsonObject } from "../../../core/canonical-json.js";
import { enrolmentChallenge, parseEnrolmentCode } from "../../../core/enrolment.js";
import {
  ENTRY_VERSION,
  formatTime,
  signingMessage,
  type Entry,
  type EntryRefs,
  type UnsignedEntry,
} from "../../../core/entry.js";

/** The IndexedDB database and object store holding one key pair per actor id. */
export const KEY_DATABASE = "radledger-patient-keys";
export const KEY_STORE = "keys";
/**
 * Keys made to replace an enrolled one, kept apart until the node enrols them: a refused or
 * interrupted re-enrolment must not cost the patient the key the log knows.
 */
export const PENDING_STORE = "pending";
/** The media type of an entry's exact canonical bytes (POST /api/v1/entries, src/api/entries.ts). */
export const ENTRY_MEDIA_TYPE = "application/vnd.radledger.entry+json";

export interface PatientKey {
  /** The patient actor the key is for. */
  readonly actor: string;
  /** The non-extractable key pair (privateKey signs; it never leaves the browser). */
  readonly keyPair: CryptoKeyPair;
  /** Standard base64 of the 32-byte raw Ed25519 public key, as the log names keys. */
  readonly publicKey: string;
  /** The key id entries name: the first 16 bytes of SHA-256(public key), hex. */
  readonly keyId: string;
  /** When it was made (RFC 3339). */
  readonly createdAt: string;
  /** When the node enrolled it (RFC 3339), once it did. */
  readonly enrolledAt?: string;
}

/** The patient-key error codes this module throws (as `code` on an Error), besides the API's. */
export type PatientKeyErrorCode =
  | "WEBCRYPTO_ED25519_UNAVAILABLE"
  | "INDEXEDDB_UNAVAILABLE"
  | "PATIENT_KEY_MISSING"
  | "ENROLMENT_CODE_INVALID";

export class PatientKeyError extends Error {
  constructor(
    /** A PatientKeyErrorCode, or the node's error code (docs/errors.md) an API call answered with. */
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "PatientKeyError";
  }
}

function subtle(): SubtleCrypto {
  // Absent outside a secure context (https, or localhost), though the DOM types say otherwise.
  const s: SubtleCrypto | undefined = (globalThis.crypto as Crypto | undefined)?.subtle;
  if (s === undefined)
    throw new PatientKeyError(
      "WEBCRYPTO_ED25519_UNAVAILABLE",
      "this browser offers no WebCrypto here (it needs a secure context: https or localhost)",
    );
  return s;
}

function openDatabase(): Promise<IDBDatabase> {
  if (typeof indexedDB === "undefined")
    return Promise.reject(
      new PatientKeyError("INDEXEDDB_UNAVAILABLE", "this browser offers no IndexedDB here"),
    );
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(KEY_DATABASE, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore(KEY_STORE, { keyPath: "actor" });
      req.result.createObjectStore(PENDING_STORE, { keyPath: "actor" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () =>
      reject(
        new PatientKeyError("INDEXEDDB_UNAVAILABLE", `IndexedDB: ${req.error?.message ?? "open failed"}`),
      );
  });
}

/** One request in its own transaction; resolves once the transaction has committed. */
async function withStore<T>(
  store: string,
  mode: IDBTransactionMode,
  run: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await openDatabase();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const req = run(tx.objectStore(store));
      tx.oncomplete = () => resolve(req.result);
      tx.onabort = tx.onerror = () =>
        reject(new PatientKeyError("INDEXEDDB_UNAVAILABLE", `IndexedDB: ${tx.error?.message ?? "aborted"}`));
    });
  } finally {
    db.close();
  }
}

/** The key id of a raw public key (src/core/entry.ts actorKeyId, with the browser's SHA-256). */
export async function keyIdOf(rawPublicKey: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await subtle().digest("SHA-256", rawPublicKey as BufferSource));
  return toHex(digest.slice(0, 16));
}

/** A new non-extractable Ed25519 key pair for `actor`, not yet stored. */
async function makePatientKey(actor: string): Promise<PatientKey> {
  let keyPair: CryptoKeyPair;
  try {
    keyPair = await subtle().generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  } catch (e) {
    if (e instanceof PatientKeyError) throw e;
    throw new PatientKeyError(
      "WEBCRYPTO_ED25519_UNAVAILABLE",
      `this browser cannot make Ed25519 keys (${(e as Error).message}); use a current Chrome, Edge, Firefox or Safari`,
    );
  }
  // A key pair's public key is always exportable; the private key, made with extractable false, never.
  const raw = new Uint8Array(await subtle().exportKey("raw", keyPair.publicKey));
  const key: PatientKey = {
    actor,
    keyPair,
    publicKey: toBase64(raw),
    keyId: await keyIdOf(raw),
    createdAt: new Date().toISOString(),
  };
  return key;
}

/**
 * Makes a new non-extractable key for `actor` and stores it: as the actor's key when this browser
 * holds no enrolled one, otherwise as their pending key, which replaces the enrolled one only once
 * a new enrolment code has enrolled it (enrolPatientKey).
 */
export async function createPatientKey(actor: string): Promise<PatientKey> {
  const key = await makePatientKey(actor);
  const current = await loadPatientKey(actor);
  await withStore(current?.enrolledAt === undefined ? KEY_STORE : PENDING_STORE, "readwrite", (s) =>
    s.put(key),
  );
  return key;
}

/** The key stored for `actor` in this browser, if any. */
export async function loadPatientKey(actor: string): Promise<PatientKey | undefined> {
  return (
    (await withStore(KEY_STORE, "readonly", (s) => s.get(actor) as IDBRequest<PatientKey | undefined>)) ??
    undefined
  );
}

/** Forgets the key stored for `actor` (this browser can then sign nothing as them). */
export async function deletePatientKey(actor: string): Promise<void> {
  await withStore(KEY_STORE, "readwrite", (s) => s.delete(actor));
  await withStore(PENDING_STORE, "readwrite", (s) => s.delete(actor));
}

async function sign(key: PatientKey, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await subtle().sign({ name: "Ed25519" }, key.keyPair.privateKey, message as BufferSource),
  );
}

/** The body of POST /api/v1/actors/{id}/browser-key: the code, the public key, and its proof. */
export interface EnrolmentRequest {
  readonly code: string;
  readonly publicKey: string;
  readonly proof: string;
}

/**
 * Signs the enrolment challenge (src/core/enrolment.ts) for this key, code and log: the proof that
 * whoever enrols the key holds its private half.
 */
export async function enrolmentRequest(
  key: PatientKey,
  origin: string,
  code: string,
): Promise<EnrolmentRequest> {
  const parsed = parseEnrolmentCode(code);
  if (!parsed)
    throw new PatientKeyError(
      "ENROLMENT_CODE_INVALID",
      "an enrolment code is 24 letters and digits (hyphens optional), as the registrar gave it",
    );
  const challenge = enrolmentChallenge({
    origin,
    actor: key.actor,
    codeId: parsed.id,
    publicKey: key.publicKey,
  });
  return { code, publicKey: key.publicKey, proof: toBase64(await sign(key, challenge)) };
}

/** An entry to sign: the envelope's fields the signer chooses (docs/log-format.md §Entries). */
export interface EntryDraft {
  readonly origin: string;
  readonly type: string;
  readonly body: JsonObject;
  readonly refs?: EntryRefs;
  /** Milliseconds since the epoch; default now. The node admits times near its own clock. */
  readonly time?: number;
}

/**
 * Builds and signs an entry as the key's actor, exactly as the node's signEntry does
 * (src/core/entry.ts): Ed25519 over "radledger/entry/v1\n" + the canonical JSON of the envelope
 * without `sig`; returns the entry and its exact canonical bytes, ready for POST /api/v1/entries.
 */
export async function signPatientEntry(
  key: PatientKey,
  draft: EntryDraft,
): Promise<{ entry: Entry; bytes: Uint8Array }> {
  const unsigned: UnsignedEntry = {
    v: ENTRY_VERSION,
    type: draft.type,
    time: formatTime(draft.time ?? Date.now()),
    origin: draft.origin,
    actor: key.actor,
    key: key.keyId,
    body: draft.body,
    ...(draft.refs && Object.keys(draft.refs).length > 0 ? { refs: draft.refs } : {}),
  };
  const sig = toBase64(await sign(key, signingMessage(unsigned)));
  const entry: Entry = { ...unsigned, sig };
  return { entry, bytes: canonicalBytes(entry) };
}

/** How the pages reach the node: same origin by default, with the caller's credentials. */
export interface NodeClient {
  /** Base URL of the node ("" for the page's own origin). */
  readonly base?: string;
  /** e.g. { authorization: "Bearer …" } when the session is an in-memory token. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
}

async function call<T>(client: NodeClient, path: string, init: { body: BodyInit; type: string }): Promise<T> {
  const f = client.fetch ?? globalThis.fetch.bind(globalThis);
  const res = await f(`${client.base ?? ""}${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { ...client.headers, "content-type": init.type, accept: "application/json" },
    body: init.body,
  });
  const text = await res.text();
  let value: unknown;
  try {
    value = text === "" ? undefined : JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!res.ok) {
    // The node answers RFC 9457 problems with a stable code (docs/errors.md).
    const p = (value ?? {}) as { code?: string; detail?: string };
    throw new PatientKeyError(p.code ?? "HTTP_ERROR", p.detail ?? `${path}: HTTP ${res.status}`, res.status);
  }
  return value as T;
}

/** Stores an enrolled key as the actor's and drops their pending one, in one transaction. */
async function promote(key: PatientKey): Promise<void> {
  const db = await openDatabase();
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction([KEY_STORE, PENDING_STORE], "readwrite");
      tx.objectStore(KEY_STORE).put(key);
      tx.objectStore(PENDING_STORE).delete(key.actor);
      tx.oncomplete = () => resolve();
      tx.onabort = tx.onerror = () =>
        reject(new PatientKeyError("INDEXEDDB_UNAVAILABLE", `IndexedDB: ${tx.error?.message ?? "aborted"}`));
    });
  } finally {
    db.close();
  }
}

/** What POST /api/v1/actors/{id}/browser-key answers. */
export interface BrowserKeyEnrolled {
  readonly index: number;
  readonly leafHash: string;
  readonly keyId: string;
  readonly retired: string[];
  readonly heldKeyRemoved: boolean;
}

/**
 * The whole enrolment: the key stored for the actor (made now if there is none), its proof for the
 * code, the node's answer; the stored key is then marked enrolled. Errors carry the node's codes
 * (ENROLMENT_CODE_INVALID, …_EXPIRED, …_USED, …_EXHAUSTED, ENROLMENT_PROOF_INVALID, docs/errors.md).
 */
export async function enrolPatientKey(
  client: NodeClient,
  request: { readonly actor: string; readonly origin: string; readonly code: string },
): Promise<{ key: PatientKey; enrolled: BrowserKeyEnrolled }> {
  // The key to enrol: the stored one if the node has not enrolled it yet; else (a new device code
  // for a patient who already has a key here) a pending key, kept apart until the node enrols it.
  const stored = await loadPatientKey(request.actor);
  const pending = (await withStore(PENDING_STORE, "readonly", (s) => s.get(request.actor))) as
    PatientKey | undefined;
  const key =
    stored !== undefined && stored.enrolledAt === undefined
      ? stored
      : (pending ?? (await createPatientKey(request.actor)));
  const body = await enrolmentRequest(key, request.origin, request.code);
  const enrolled = await call<BrowserKeyEnrolled>(
    client,
    `/api/v1/actors/${encodeURIComponent(request.actor)}/browser-key`,
    { body: JSON.stringify(body), type: "application/json" },
  );
  const done: PatientKey = { ...key, enrolledAt: new Date().toISOString() };
  await promote(done);
  return { key: done, enrolled };
}

/** What POST /api/v1/entries answers: the durable entry and the checkpoint that covers it. */
export interface AppendedEntry {
  readonly index: number;
  readonly leafHash: string;
  readonly size: number;
  readonly entry: Entry;
  readonly checkpoint: string;
}

/** Signs an entry with the actor's stored key and appends it (its exact canonical bytes). */
export async function submitPatientEntry(
  client: NodeClient,
  actor: string,
  draft: EntryDraft,
): Promise<AppendedEntry> {
  const key = await loadPatientKey(actor);
  if (!key)
    throw new PatientKeyError(
      "PATIENT_KEY_MISSING",
      "this browser holds no key for you: enrol one with an enrolment code from the registrar",
    );
  const { bytes } = await signPatientEntry(key, draft);
  return call<AppendedEntry>(client, "/api/v1/entries", { body: bytes as BodyInit, type: ENTRY_MEDIA_TYPE });
}

/**
 * The log's origin, which every entry and enrolment proof names: the first line of the node's
 * checkpoint (C2SP tlog-checkpoint, https://c2sp.org/tlog-checkpoint), public at GET /checkpoint.
 */
export async function logOrigin(client: NodeClient = {}): Promise<string> {
  const f = client.fetch ?? globalThis.fetch.bind(globalThis);
  const res = await f(`${client.base ?? ""}/checkpoint`, { credentials: "same-origin" });
  if (!res.ok) throw new PatientKeyError("HTTP_ERROR", `/checkpoint: HTTP ${res.status}`, res.status);
  const origin = (await res.text()).split("\n", 1)[0] ?? "";
  if (origin === "") throw new PatientKeyError("HTTP_ERROR", "/checkpoint has no origin line");
  return origin;
}
