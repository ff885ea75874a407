/**
 * The node's own keys (docs/security.md §Keys) from the backend config.json names: files of the data
 * directory (the embedded default) or keys on a PKCS#11 token (src/adapters/pkcs11). This is the one
 * place that chooses; everything else sees the NodeKeys port.
 */
import { existsSync } from "node:fs";
import { fromBase64, toBase64 } from "../core/bytes.js";
import type { CryptoSuite } from "../core/crypto.js";
import { RadledgerError } from "../core/errors.js";
import { formatCosignatureVerifierKey } from "../core/cosignature.js";
import { formatVerifierKey, noteKeyId, SIG_TYPE_ED25519 } from "../core/note.js";
import { Pkcs11Token } from "../adapters/pkcs11/token.js";
import { fileKeyWrap } from "../adapters/node-crypto/key-wrap.js";
import {
  DEFAULT_PIN_ENV,
  keyBackend,
  paths,
  readConfig,
  readPin,
  readSecret,
  writeConfig,
  type NodeConfig,
  type Pkcs11KeyConfig,
} from "../app/data-dir.js";
import { consortiumPaths, readWitnessKey, witnessKeyName } from "../app/consortium/config.js";
import { fileLogKeyCandidate, pendingFileLogKey, readLogKey } from "../app/keys.js";
import type { Pkcs11KeyRequest } from "../app/node.js";
import type { LogSigningKey, NodeKeys } from "../ports/keys.js";

export function openNodeKeys(crypto: CryptoSuite, dir: string, config: NodeConfig): NodeKeys {
  const keys = keyBackend(config);
  return keys.backend === "pkcs11"
    ? pkcs11NodeKeys(crypto, dir, config, keys)
    : fileNodeKeys(crypto, dir, config.origin);
}

/** keys/log.key, keys/vault.master and keys/witness.key of the data directory. */
function fileNodeKeys(crypto: CryptoSuite, dir: string, origin: string): NodeKeys {
  let log = readLogKey(crypto, dir);
  const vault = fileKeyWrap(fromBase64(readSecret(paths(dir).vaultMasterKey)));
  const witness = existsSync(consortiumPaths(dir).witnessKey) ? readWitnessKey(crypto, dir) : undefined;
  return {
    backend: "file",
    get log() {
      return log;
    },
    vault,
    witness,
    createLogKey() {
      const candidate = fileLogKeyCandidate(crypto, dir, origin);
      return {
        key: candidate.key,
        activate() {
          candidate.activate();
          log = candidate.key;
        },
        discard: () => candidate.discard(),
      };
    },
    resumeRotation(publicKey) {
      const pending = pendingFileLogKey(crypto, dir, publicKey);
      if (!pending) return false;
      pending.activate();
      log = pending.key;
      return true;
    },
    close() {},
  };
}

/** The next label of a rotated log key: the base label and the new key's note key ID. */
function rotatedLabel(current: string, keyIdHex: string): string {
  return `${current.replace(/\.[0-9a-f]{8}$/, "")}.${keyIdHex}`;
}

function pkcs11NodeKeys(
  crypto: CryptoSuite,
  dir: string,
  config: NodeConfig,
  keys: Pkcs11KeyConfig,
): NodeKeys {
  const token = Pkcs11Token.open({ module: keys.module, token: keys.token, pin: readPin(keys) });
  try {
    let current = keys;
    let log: LogSigningKey = token.logSigningKey(crypto, keys.labels.log, config.origin);
    if (formatVerifierKey(log) !== keys.logVerifierKey)
      throw new RadledgerError(
        "KEY_BACKEND_CONFIG_INVALID",
        `the token's key ${JSON.stringify(keys.labels.log)} is not the log key config.json names (${keys.logVerifierKey})`,
      );
    const vault = token.keyWrap(keys.labels.vault);
    const witness =
      keys.labels.witness === undefined
        ? undefined
        : token.cosigner(crypto, keys.labels.witness, witnessKeyName(config.origin));
    const activate = (label: string, key: LogSigningKey): void => {
      const old = current.labels.log;
      current = {
        ...current,
        labels: { ...current.labels, log: label },
        logVerifierKey: formatVerifierKey(key),
      };
      // config.json first: if the process dies now, the next open uses the new key.
      writeConfig(dir, { ...readConfig(dir), keys: current });
      log = key;
      token.destroyKeyPair(old);
    };
    return {
      backend: "pkcs11",
      get log() {
        return log;
      },
      vault,
      witness,
      resumeRotation(publicKey) {
        const keyId = noteKeyId(crypto, config.origin, SIG_TYPE_ED25519, publicKey);
        const label = rotatedLabel(current.labels.log, Buffer.from(keyId).toString("hex"));
        if (!token.has(label)) return false;
        const key = token.logSigningKey(crypto, label, config.origin);
        if (toBase64(key.publicKey) !== toBase64(publicKey)) return false;
        activate(label, key);
        return true;
      },
      createLogKey() {
        // Generated under a temporary label, then labelled after its key ID once we know it.
        const pending = `${current.labels.log.replace(/\.[0-9a-f]{8}$/, "")}.next`;
        token.destroyKeyPair(pending); // a rotation that died half-way
        token.generateEd25519(pending);
        const probe = token.logSigningKey(crypto, pending, config.origin);
        const label = rotatedLabel(current.labels.log, Buffer.from(probe.keyId).toString("hex"));
        token.relabelKeyPair(pending, label);
        const key = token.logSigningKey(crypto, label, config.origin);
        return {
          key,
          activate: () => activate(label, key),
          discard: () => token.destroyKeyPair(label),
        };
      },
      close: () => token.close(),
    };
  } catch (e) {
    token.close();
    throw e;
  }
}

/**
 * `radledger init --keys pkcs11`: uses the keys with the requested labels on the token, generating
 * those that are missing inside the HSM; returns the config.json `keys` section.
 */
export function provisionPkcs11Keys(
  crypto: CryptoSuite,
  origin: string,
  request: Pkcs11KeyRequest,
): Pkcs11KeyConfig {
  const labels = {
    log: request.labels?.log ?? "radledger-log",
    vault: request.labels?.vault ?? "radledger-vault",
    witness: request.labels?.witness ?? "radledger-witness",
  };
  const pinSource =
    request.pinFile !== undefined
      ? { pinFile: request.pinFile }
      : { pinEnv: request.pinEnv ?? DEFAULT_PIN_ENV };
  const draft = { backend: "pkcs11" as const, module: request.module, token: request.token, ...pinSource };
  const token = Pkcs11Token.open({ module: request.module, token: request.token, pin: readPin(draft) });
  try {
    if (!token.has(labels.log)) token.generateEd25519(labels.log);
    if (!token.has(labels.witness)) token.generateEd25519(labels.witness);
    if (!token.has(labels.vault)) token.generateAes256(labels.vault);
    const log = token.logSigningKey(crypto, labels.log, origin);
    const witness = token.cosigner(crypto, labels.witness, witnessKeyName(origin));
    token.keyWrap(labels.vault); // checks that it is an AES key
    return {
      ...draft,
      labels,
      logVerifierKey: formatVerifierKey(log),
      witnessVerifierKey: formatCosignatureVerifierKey(witness),
    };
  } finally {
    token.close();
  }
}
