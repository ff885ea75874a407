/** Test helpers: a fresh data directory with an open node, and actors with in-memory keys. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { toBase64 } from "../../src/core/bytes.js";
import { actorKeyId } from "../../src/core/entry.js";
import type { JsonObject } from "../../src/core/canonical-json.js";
import type { EntryRefs } from "../../src/core/entry.js";
import { initDataDir } from "../../src/app/init.js";
import { readActorKey, readLogKeySeed, signAs, type HeldKey } from "../../src/app/keys.js";
import { openNode, type NodeOptions, type RadledgerNode, nodeFactory } from "../../src/wiring/node.js";
import { expect } from "vitest";
import type { RadledgerError } from "../../src/core/errors.js";
import { INSTITUTION_ACTOR } from "../../src/domain/identity/state.js";

export const ORIGIN = "radledger.test-hospital.example/log";

export function tempDir(prefix = "radledger-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestNode {
  readonly dir: string;
  readonly node: RadledgerNode;
  readonly admin: HeldKey;
  readonly institution: HeldKey;
  /** Signs an entry as `key` for this log. */
  sign(key: HeldKey, type: string, body: JsonObject, refs?: EntryRefs, time?: number): Uint8Array;
  /** Enrols a new actor with a fresh key (signed by the admin) and returns its key. */
  enrol(actorId: string, roles: string[], extra?: JsonObject): Promise<HeldKey>;
  /** Appends an entry that must be refused and leave no trace in the log; the refusal's code. */
  refusal(bytes: Uint8Array): Promise<string>;
  reopen(options?: NodeOptions): Promise<void>;
  close(): Promise<void>;
}

export function newKey(actor: string, seed = crypto.randomBytes(32)): HeldKey {
  const publicKey = crypto.ed25519PublicKey(seed);
  return { actor, seed, publicKey, keyId: actorKeyId(crypto, publicKey) };
}

export async function makeNode(options: NodeOptions = { verifyThreads: 0 }): Promise<TestNode> {
  const dir = tempDir();
  const dataDir = join(dir.path, "data");
  await initDataDir(dataDir, { origin: ORIGIN, institutionName: "Test Hospital" }, nodeFactory);
  let node = openNode(dataDir, options);
  const admin = readActorKey(crypto, dataDir, "admin")!;
  const institution: HeldKey = {
    actor: INSTITUTION_ACTOR,
    seed: readLogKeySeed(dataDir),
    publicKey: node.logKey.publicKey,
    keyId: actorKeyId(crypto, node.logKey.publicKey),
  };
  const t: TestNode = {
    dir: dataDir,
    get node() {
      return node;
    },
    admin,
    institution,
    sign: (key, type, body, refs, time) =>
      signAs(crypto, key, ORIGIN, type, body, {
        ...(refs ? { refs } : {}),
        ...(time === undefined ? {} : { time }),
      }),
    async enrol(actorId, roles, extra = {}) {
      const key = newKey(actorId);
      await node.appender.append(
        t.sign(admin, "actor.enrolled", {
          actorId,
          kind: roles.includes("patient") ? "patient" : "staff",
          roles,
          publicKey: toBase64(key.publicKey),
          ...extra,
        }),
      );
      return key;
    },
    async refusal(bytes) {
      const size = node.ledger.size;
      const [r] = await node.appender.appendAll([bytes]);
      expect(r!.ok).toBe(false);
      expect(node.ledger.size).toBe(size); // a refused entry leaves no trace in the log
      return (r as { error: RadledgerError }).error.code;
    },
    async reopen(o = options) {
      await node.close();
      node = openNode(dataDir, o);
    },
    async close() {
      await node.close();
      dir.remove();
    },
  };
  return t;
}
