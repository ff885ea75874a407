/**
 * `radledger init`: a new data directory with a fresh log key, the institution's genesis entry and a
 * first admin actor whose key the node holds. Refuses to touch an existing directory.
 */
import { rmSync } from "node:fs";
import { toBase64 } from "../core/bytes.js";
import { RadledgerError } from "../core/errors.js";
import { formatVerifierKey, isValidKeyName } from "../core/note.js";
import { createDataDir, paths, writeSecret } from "./data-dir.js";
import { signAsInstitution } from "./institution.js";
import { writeActorKey, writeLogKey } from "./keys.js";
import type { NodeFactory } from "./node.js";
import { createWitnessKey } from "./consortium/config.js";

export interface InitOptions {
  readonly origin: string;
  readonly institutionName?: string;
  readonly adminActor?: string;
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
  { crypto, openNode }: NodeFactory,
): Promise<InitResult> {
  const origin = options.origin;
  if (!isValidKeyName(origin) || origin.length > 255) {
    throw new RadledgerError(
      "INPUT_INVALID",
      "origin must be a non-empty schema-less URL without spaces or '+', e.g. radledger.example-hospital.org/log",
    );
  }
  const adminActor = options.adminActor ?? "admin";
  createDataDir(dir, {
    version: 1,
    origin,
    institutionName: options.institutionName ?? origin,
    createdAt: new Date().toISOString(),
  });
  let created = true;
  try {
    const logSeed = crypto.randomBytes(32);
    writeLogKey(crypto, dir, origin, logSeed);
    writeSecret(paths(dir).pseudonymSecret, toBase64(crypto.randomBytes(32)) + "\n");
    writeSecret(paths(dir).vaultMasterKey, toBase64(crypto.randomBytes(32)) + "\n");
    // The node's witness key (C2SP tlog-cosignature): distinct from the log key by design.
    createWitnessKey(crypto, dir);
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
