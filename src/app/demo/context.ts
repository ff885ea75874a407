/**
 * The demo's building blocks: the two institutions' origins, a context that enrols actors (keeping
 * their keys in DIR/keys/actors) and appends entries signed by them, and synthetic study bodies.
 * Everything is invented: identifiers are "DEMO-MRN-…" and UIDs under a made-up root, and only their
 * keyed pseudonyms reach the ledger.
 */
import { toBase64, toHex, utf8 } from "../../core/bytes.js";
import type { EntryRefs } from "../../core/entry.js";
import type { JsonObject } from "../../core/canonical-json.js";
import type { ActorSigningKey } from "../../ports/keys.js";
import { signAs, type HeldKey } from "../keys.js";
import { institutionKey } from "../institution.js";
import type { RadledgerNode } from "../node.js";

export const DEMO_ORIGIN = "radledger.demo-hospital.example/log";
export const PARTNER_ORIGIN = "radledger.partner-hospital.example/log";

export interface DemoContext {
  readonly node: RadledgerNode;
  readonly admin: HeldKey;
  readonly institution: ActorSigningKey;
  enrol(actorId: string, body: JsonObject): Promise<HeldKey>;
  append(key: HeldKey | ActorSigningKey, type: string, body: JsonObject, refs?: EntryRefs): Promise<string>;
  /** SHA-256 of a label, for synthetic manifest roots and content hashes. */
  hash(label: string): string;
}

export function demoContext(node: RadledgerNode): DemoContext {
  const admin = node.heldKeys.get("admin")!;
  const institution = institutionKey(node);
  const ctx: DemoContext = {
    node,
    admin,
    institution,
    async enrol(actorId, body) {
      const key = node.heldKeys.put(actorId, node.crypto.randomBytes(32));
      await ctx.append(admin, "actor.enrolled", { actorId, publicKey: toBase64(key.publicKey), ...body });
      return key;
    },
    async append(key, type, body, refs) {
      const bytes = signAs(node.crypto, key, node.config.origin, type, body, refs ? { refs } : {});
      return (await node.appender.append(bytes)).leafHash;
    },
    hash: (label) => toHex(node.crypto.sha256(utf8(`demo/${label}`))),
  };
  return ctx;
}

/** A study as ingest would register it: keyed pseudonyms of invented UIDs, synthetic manifest roots. */
export function studyBody(
  d: DemoContext,
  mrn: string,
  n: number,
  modality: string,
  bodyPart: string,
): JsonObject {
  const uid = `1.2.826.0.1.3680043.10.999.${n}`;
  const series = [1, 2].map((s) => ({
    seriesKey: d.node.pseudonym("series", `${uid}.${s}`),
    modality,
    bodyPart,
    instanceCount: 40 * s,
    manifestRoot: d.hash(`${uid}.${s} manifest`),
  }));
  return {
    studyKey: d.node.pseudonym("study", uid),
    patient: d.node.pseudonym("patient", mrn),
    modalities: [modality],
    bodyPart,
    series,
    instanceCount: 120,
    manifestRoot: d.hash(`${uid} manifest`),
    source: { kind: "pacs", name: "orthanc-main" },
  };
}
