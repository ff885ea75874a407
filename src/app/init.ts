/**
 * `radledger init`: a new data directory with a fresh log key, the institution's genesis entry and a
 * first admin actor whose key the node holds. Refuses to touch an existing directory.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { toBase64 } from "../core/bytes.js";
import { RadledgerError } from "../core/errors.js";
import { formatVerifierKey, isValidKeyName } from "../core/note.js";
import { createDataDir, paths, writeSecret } from "./data-dir.js";
import { signAsInstitution } from "./institution.js";
import { writeActorKey, writeLogKey } from "./keys.js";
import type { NodeFactory, Pkcs11KeyRequest } from "./node.js";
import { createWitnessKey } from "./consortium/config.js";

export interface InitOptions {
  readonly origin: string;
  readonly institutionName?: string;
  readonly adminActor?: string;
  /**
   * Keep the log, witness and vault master keys on a PKCS#11 token (generated there when missing)
   * instead of files of the data directory (docs/security.md §Keys).
   */
  readonly pkcs11?: Pkcs11KeyRequest;
}

export interface InitResult {
  readonly dir: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly adminActor: string;
  readonly size: number;
}

export async function initDataDir(
  dir: string,
  options: InitOptions,
  { crypto, openNode, provisionPkcs11Keys }: NodeFactory,
): Promise<InitResult> {
  const origin = options.origin;
  if (!isValidKeyName(origin) || origin.length > 255) {
    throw new RadledgerError(
      "INPUT_INVALID",
      "origin must be a non-empty schema-less URL without spaces or '+', e.g. radledger.example-hospital.org/log",
    );
  }
  const adminActor = options.adminActor ?? "admin";
  if (options.pkcs11 && existsSync(dir) && readdirSync(dir).length > 0)
    throw new RadledgerError(
      "STORE_EXISTS",
      `${dir} already exists and is not empty; refusing to overwrite a data directory`,
    );
  // With an HSM the keys are made (or found) on the token first: config.json names them.
  const keys = options.pkcs11 ? provisionPkcs11Keys(origin, options.pkcs11) : undefined;
  createDataDir(dir, {
    version: 1,
    origin,
    institutionName: options.institutionName ?? origin,
    createdAt: new Date().toISOString(),
    ...(keys ? { keys } : {}),
  });
  let created = true;
  try {
    writeSecret(paths(dir).pseudonymSecret, toBase64(crypto.randomBytes(32)) + "\n");
    if (!keys) {
      writeLogKey(crypto, dir, origin, crypto.randomBytes(32));
      writeSecret(paths(dir).vaultMasterKey, toBase64(crypto.randomBytes(32)) + "\n");
      // The node's witness key (C2SP tlog-cosignature): distinct from the log key by design.
      createWitnessKey(crypto, dir);
    }
    const adminSeed = crypto.randomBytes(32);
    writeActorKey(dir, adminActor, adminSeed);

    const node = openNode(dir, { verifyThreads: 0 });
    try {
      const genesis = signAsInstitution(node, "institution.genesis", {
        name: node.config.institutionName,
        logVerifierKey: formatVerifierKey(node.logKey),
        publicKey: toBase64(node.logKey.publicKey),
      });
      const admin = signAsInstitution(node, "actor.enrolled", {
        actorId: adminActor,
        kind: "staff",
        roles: ["admin"],
        publicKey: toBase64(crypto.ed25519PublicKey(adminSeed)),
        displayName: "Institution administrator",
      });
      await node.appender.append(genesis);
      await node.appender.append(admin);
      created = false;
      return { dir, origin, verifierKey: node.verifierKey, adminActor, size: node.ledger.size };
    } finally {
      await node.close();
    }
  } finally {
    // A half-made directory would be refused by the next init: remove it if we failed.
    if (created) rmSync(dir, { recursive: true, force: true });
  }
}
