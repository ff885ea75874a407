/**
 * The demo scenario, seeded through the real append path (every entry signed by its actor's key and
 * admitted by the same rules as production). Keys of demo actors are held by the node so that the
 * demo can be explored from the CLI and the web UI.
 */
import { toBase64 } from "../core/bytes.js";
import { actorKeyId } from "../core/entry.js";
import type { JsonObject } from "../core/canonical-json.js";
import { readActorKey, signAs, writeActorKey, type HeldKey } from "./keys.js";
import type { RadledgerNode } from "./node.js";

export interface DemoContext {
  readonly node: RadledgerNode;
  readonly admin: HeldKey;
  enrol(actorId: string, body: JsonObject): Promise<HeldKey>;
  append(
    key: HeldKey,
    type: string,
    body: JsonObject,
    refs?: Record<string, string | string[]>,
  ): Promise<string>;
}

export function demoContext(node: RadledgerNode): DemoContext {
  const admin = readActorKey(node.crypto, node.dir, "admin")!;
  const ctx: DemoContext = {
    node,
    admin,
    async enrol(actorId, body) {
      const seed = node.crypto.randomBytes(32);
      writeActorKey(node.dir, actorId, seed);
      const publicKey = node.crypto.ed25519PublicKey(seed);
      await ctx.append(admin, "actor.enrolled", { actorId, publicKey: toBase64(publicKey), ...body });
      return { actor: actorId, seed, publicKey, keyId: actorKeyId(node.crypto, publicKey) };
    },
    async append(key, type, body, refs) {
      const bytes = signAs(node.crypto, key, node.config.origin, type, body, refs ? { refs } : {});
      return (await node.ledger.appendOne(bytes)).leafHash;
    },
  };
  return ctx;
}

export async function seedDemo(node: RadledgerNode): Promise<string> {
  const demo = demoContext(node);
  await demo.enrol("rad-neuro-1", {
    kind: "staff",
    roles: ["radiologist"],
    displayName: "Dr Ada Neuro",
    specialty: "neuroradiology",
  });
  await demo.enrol("rad-cardio-1", {
    kind: "staff",
    roles: ["radiologist"],
    displayName: "Dr Ben Cardio",
    specialty: "cardiac-imaging",
  });
  await demo.enrol("tech-1", { kind: "staff", roles: ["technologist"], displayName: "Chris Tech" });
  await demo.enrol("auditor-1", { kind: "staff", roles: ["auditor"], displayName: "Dana Audit" });
  return `${node.ledger.size} entries`;
}
