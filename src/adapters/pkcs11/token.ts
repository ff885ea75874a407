/**
 * The node's own keys in an HSM through PKCS#11 (docs/security.md §Keys), on pkcs11js: Ed25519 key
 * pairs (CKK_EC_EDWARDS, signed with CKM_EDDSA) for the log and witness keys and an AES-256 key
 * (CKM_AES_GCM with associated data) that wraps the vault's per-patient data keys. Keys are found by
 * label on the token with the configured label; private and secret keys are made sensitive and not
 * extractable, so their bytes never leave the HSM: the node hands it bytes and gets signatures or
 * ciphertexts back.
 *
 * One session per opened token, logged in as the user with the PIN the caller read (from an
 * environment variable or a file, never config.json). A module is loaded and initialised once per
 * process and finalised when its last token is closed.
 */
import { randomBytes } from "node:crypto";
import pkcs11js from "pkcs11js";
import type { CryptoSuite } from "../../core/crypto.js";
import { concatBytes } from "../../core/bytes.js";
import { signingCosigner, type Cosigner } from "../../core/cosignature.js";
import { RadledgerError } from "../../core/errors.js";
import { noteKeyId, SIG_TYPE_ED25519 } from "../../core/note.js";
import type { LogSigningKey } from "../../ports/keys.js";
import type { KeyWrap } from "../../ports/vault.js";

/** PKCS#11 3.0 values pkcs11js 2.1.7 does not name. */
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
/** DER OBJECT IDENTIFIER 1.3.101.112 (id-Ed25519, RFC 8410): CKA_EC_PARAMS of an Ed25519 key. */
const ED25519_OID = Buffer.from("06032b6570", "hex");
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

export interface Pkcs11Options {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  readonly module: string;
  /** Label of the token holding the keys. */
  readonly token: string;
  /** The user PIN (read by the caller from an environment variable or a file). */
  readonly pin: string;
}

interface LoadedModule {
  readonly lib: pkcs11js.PKCS11;
  users: number;
}

const modules = new Map<string, LoadedModule>();

function code(e: unknown): string {
  return e instanceof Error ? (e.message.split(/[\s:]/)[0] ?? "") : "";
}

function failed(what: string, e: unknown): RadledgerError {
  return new RadledgerError(
    "KEY_BACKEND_FAILED",
    `HSM: ${what} failed (${code(e) || "unknown error"})`,
    {},
    {
      cause: e,
    },
  );
}

function loadModule(path: string): LoadedModule {
  const loaded = modules.get(path);
  if (loaded) {
    loaded.users++;
    return loaded;
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(path);
  } catch (e) {
    throw new RadledgerError(
      "KEY_BACKEND_UNAVAILABLE",
      `cannot load the PKCS#11 module ${path} (missing, or not a PKCS#11 library)`,
      {},
      { cause: e },
    );
  }
  try {
    lib.C_Initialize();
  } catch (e) {
    if (code(e) !== "CKR_CRYPTOKI_ALREADY_INITIALIZED") {
      lib.close();
      throw new RadledgerError(
        "KEY_BACKEND_UNAVAILABLE",
        `the PKCS#11 module ${path} did not initialise (${code(e)})`,
        {},
        { cause: e },
      );
    }
  }
  const entry = { lib, users: 1 };
  modules.set(path, entry);
  return entry;
}

function releaseModule(path: string): void {
  const loaded = modules.get(path);
  if (!loaded || --loaded.users > 0) return;
  modules.delete(path);
  try {
    loaded.lib.C_Finalize();
  } finally {
    loaded.lib.close();
  }
}

/** A logged-in session on one token. */
export class Pkcs11Token {
  readonly #module: string;
  readonly #lib: pkcs11js.PKCS11;
  readonly #session: Buffer;
  #closed = false;

  private constructor(module: string, lib: pkcs11js.PKCS11, session: Buffer) {
    this.#module = module;
    this.#lib = lib;
    this.#session = session;
  }

  /**
   * Loads the module, finds the token by label and logs in. Errors: KEY_BACKEND_UNAVAILABLE (module),
   * KEY_BACKEND_TOKEN_NOT_FOUND, KEY_BACKEND_PIN_INCORRECT.
   */
  static open(options: Pkcs11Options): Pkcs11Token {
    const { lib } = loadModule(options.module);
    let session: Buffer | undefined;
    try {
      const slot = lib
        .C_GetSlotList(true)
        .find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === options.token);
      if (!slot)
        throw new RadledgerError(
          "KEY_BACKEND_TOKEN_NOT_FOUND",
          `no initialised token labelled ${JSON.stringify(options.token)} in ${options.module}`,
        );
      session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        lib.C_Login(session, pkcs11js.CKU_USER, options.pin);
      } catch (e) {
        const c = code(e);
        if (
          c === "CKR_PIN_INCORRECT" ||
          c === "CKR_PIN_LOCKED" ||
          c === "CKR_PIN_INVALID" ||
          c === "CKR_PIN_LEN_RANGE"
        )
          throw new RadledgerError(
            "KEY_BACKEND_PIN_INCORRECT",
            `token ${JSON.stringify(options.token)} refused the user PIN (${c})`,
          );
        // Another session of this process logged the token in already.
        if (c !== "CKR_USER_ALREADY_LOGGED_IN") throw failed("login", e);
      }
      return new Pkcs11Token(options.module, lib, session);
    } catch (e) {
      if (session) lib.C_CloseSession(session);
      releaseModule(options.module);
      throw e instanceof RadledgerError ? e : failed("opening the token", e);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#lib.C_CloseSession(this.#session);
    } finally {
      releaseModule(this.#module);
    }
  }

  private find(label: string, cls: number): Buffer[] {
    const lib = this.#lib;
    lib.C_FindObjectsInit(this.#session, [
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_CLASS, value: cls },
    ]);
    try {
      return lib.C_FindObjects(this.#session, 2);
    } finally {
      lib.C_FindObjectsFinal(this.#session);
    }
  }

  private one(label: string, cls: number, what: string): Buffer {
    const found = this.find(label, cls);
    if (found.length === 0)
      throw new RadledgerError(
        "KEY_BACKEND_KEY_NOT_FOUND",
        `no ${what} labelled ${JSON.stringify(label)} on the token`,
      );
    if (found.length > 1)
      throw new RadledgerError(
        "KEY_BACKEND_CONFIG_INVALID",
        `more than one ${what} labelled ${JSON.stringify(label)} on the token`,
      );
    return found[0]!;
  }

  has(label: string): boolean {
    return (
      this.find(label, pkcs11js.CKO_PRIVATE_KEY).length > 0 ||
      this.find(label, pkcs11js.CKO_SECRET_KEY).length > 0
    );
  }

  /** Generates an Ed25519 key pair inside the HSM; the private key is sensitive and not extractable. */
  generateEd25519(label: string): void {
    if (this.has(label))
      throw new RadledgerError(
        "STORE_EXISTS",
        `the token already has a key labelled ${JSON.stringify(label)}`,
      );
    try {
      this.#lib.C_GenerateKeyPair(
        this.#session,
        { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
        [
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_LABEL, value: label },
          { type: pkcs11js.CKA_VERIFY, value: true },
          { type: pkcs11js.CKA_EC_PARAMS, value: ED25519_OID },
        ],
        [
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_LABEL, value: label },
          { type: pkcs11js.CKA_SIGN, value: true },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        ],
      );
    } catch (e) {
      throw failed("generating an Ed25519 key pair", e);
    }
  }

  /** Generates an AES-256 key inside the HSM for wrapping; sensitive and not extractable. */
  generateAes256(label: string): void {
    if (this.has(label))
      throw new RadledgerError(
        "STORE_EXISTS",
        `the token already has a key labelled ${JSON.stringify(label)}`,
      );
    try {
      this.#lib.C_GenerateKey(this.#session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      ]);
    } catch (e) {
      throw failed("generating an AES-256 key", e);
    }
  }

  /** Deletes both halves of an Ed25519 key pair (a retired log key). */
  destroyKeyPair(label: string): void {
    for (const cls of [pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_PUBLIC_KEY])
      for (const handle of this.find(label, cls)) this.#lib.C_DestroyObject(this.#session, handle);
  }

  /** Gives both halves of a key pair a new label. */
  relabelKeyPair(from: string, to: string): void {
    for (const cls of [pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_PUBLIC_KEY])
      for (const handle of this.find(from, cls))
        this.#lib.C_SetAttributeValue(this.#session, handle, [{ type: pkcs11js.CKA_LABEL, value: to }]);
  }

  /** The raw 32-byte Ed25519 public key of the pair labelled `label`. */
  ed25519PublicKey(label: string): Uint8Array {
    const handle = this.one(label, pkcs11js.CKO_PUBLIC_KEY, "Ed25519 public key");
    const [attr] = this.#lib.C_GetAttributeValue(this.#session, handle, [{ type: pkcs11js.CKA_EC_POINT }]);
    const point = attr?.value;
    // CKA_EC_POINT of an Edwards key: DER OCTET STRING (04 20) around the 32 key bytes; some
    // modules give the bare 32 bytes.
    if (point instanceof Buffer && point.length === 34 && point[0] === 0x04 && point[1] === 0x20)
      return new Uint8Array(point.subarray(2));
    if (point instanceof Buffer && point.length === 32) return new Uint8Array(point);
    throw new RadledgerError(
      "KEY_BACKEND_KEY_NOT_FOUND",
      `key ${JSON.stringify(label)} is not an Ed25519 key`,
    );
  }

  /** Signs with CKM_EDDSA (pure Ed25519, as RFC 8032): the same signature node:crypto makes. */
  ed25519Sign(label: string): (message: Uint8Array) => Uint8Array {
    const handle = this.one(label, pkcs11js.CKO_PRIVATE_KEY, "Ed25519 private key");
    return (message) => {
      if (this.#closed) throw new RadledgerError("NODE_CLOSED", "the HSM session is closed");
      try {
        this.#lib.C_SignInit(this.#session, { mechanism: CKM_EDDSA }, handle);
        return new Uint8Array(this.#lib.C_Sign(this.#session, Buffer.from(message), Buffer.alloc(64)));
      } catch (e) {
        throw failed("Ed25519 signing", e);
      }
    };
  }

  /** A log (or witness) key on the token as a note signer named `name`. */
  logSigningKey(crypto: CryptoSuite, label: string, name: string): LogSigningKey {
    const publicKey = this.ed25519PublicKey(label);
    const sign = this.ed25519Sign(label);
    return { name, publicKey, keyId: noteKeyId(crypto, name, SIG_TYPE_ED25519, publicKey), sign };
  }

  /** A witness key on the token as a cosignature/v1 signer named `name`. */
  cosigner(crypto: CryptoSuite, label: string, name: string): Cosigner {
    return signingCosigner(crypto, name, this.ed25519PublicKey(label), this.ed25519Sign(label));
  }

  /** The AES-256 key labelled `label` as the vault's KeyWrap: iv(12) || ciphertext || tag(16). */
  keyWrap(label: string): KeyWrap {
    const handle = this.one(label, pkcs11js.CKO_SECRET_KEY, "AES key");
    const gcm = (iv: Buffer, aad: string) => ({
      mechanism: pkcs11js.CKM_AES_GCM,
      parameter: {
        type: pkcs11js.CK_PARAMS_GCM,
        iv,
        ivBits: GCM_IV_BYTES * 8,
        aad: Buffer.from(aad, "utf8"),
        tagBits: GCM_TAG_BYTES * 8,
      },
    });
    return {
      wrap: (key, aad) => {
        const iv = randomBytes(GCM_IV_BYTES);
        try {
          this.#lib.C_EncryptInit(this.#session, gcm(iv, aad), handle);
          const sealed = this.#lib.C_Encrypt(
            this.#session,
            Buffer.from(key),
            Buffer.alloc(key.length + GCM_TAG_BYTES + 16),
          );
          return concatBytes(iv, sealed);
        } catch (e) {
          throw failed("wrapping a data key", e);
        }
      },
      unwrap: (wrapped, aad) => {
        if (wrapped.length < GCM_IV_BYTES + GCM_TAG_BYTES)
          throw new RadledgerError("STORE_CORRUPT", "a wrapped vault key is too short");
        const iv = Buffer.from(wrapped.subarray(0, GCM_IV_BYTES));
        try {
          this.#lib.C_DecryptInit(this.#session, gcm(iv, aad), handle);
          return new Uint8Array(
            this.#lib.C_Decrypt(
              this.#session,
              Buffer.from(wrapped.subarray(GCM_IV_BYTES)),
              Buffer.alloc(wrapped.length),
            ),
          );
        } catch {
          // The HSM does not say why; a wrong key, a moved key (other aad) or a corrupted one alike.
          throw new RadledgerError("STORE_CORRUPT", "a wrapped vault key failed authentication in the HSM");
        }
      },
    };
  }
}
