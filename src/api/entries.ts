/**
 * Creating entries over HTTP, for every entry type of the registry (src/domain/registry.ts):
 *
 * - `POST /api/v1/entries/{type}` with `{ body, refs? }`: the node validates the body with the type's
 *   schema, signs it with the key it holds for the authenticated actor (DIR/keys/actors/<actor>.key)
 *   and appends it.
 * - `POST /api/v1/entries` with an entry the caller signed with their own key, either as JSON
 *   `{ "entry": { … } }` (the node re-encodes it canonically — canonical JSON is a function of the
 *   value, so the signature still covers exactly those bytes) or as the exact canonical bytes with
 *   Content-Type `application/vnd.radledger.entry+json`.
 *
 * Either way the entry's actor must be the authenticated actor (no one signs as someone else), and
 * the entry goes through the node's one appender (src/domain/ledger/appender.ts), whose ledger checks
 * everything else — among it that the actor holds a role that may sign the type (ROLE_NOT_PERMITTED,
 * the one role check). The answer — entry, index, leaf hash — comes only once the entry is durable.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { toBase64, toHex, fromHex, fromUtf8 } from "../core/bytes.js";
import { canonicalBytes, type JsonObject } from "../core/canonical-json.js";
import { decodeEntry, type EntryRefs } from "../core/entry.js";
import { RadledgerError } from "../core/errors.js";
import { MAX_ENTRY_SIZE } from "../core/tiles.js";
import type { HeldKey } from "../ports/keys.js";
import type { AnyEntryTypeDef } from "../domain/ledger/entry-types.js";
import { entryId, actorId, keyId, timestamp } from "../domain/schemas.js";
import { shredIfErasure } from "../app/erase.js";
import { signAs } from "../app/keys.js";
import { keyCustodyOf } from "../domain/identity/state.js";
import { defineRoute, type Api, type Caller } from "./route.js";

export const ENTRY_MEDIA_TYPE = "application/vnd.radledger.entry+json";

const appended = z.object({
  index: z.number().int(),
  leafHash: z.string().describe("lowercase hex leaf hash: the entry's id"),
  size: z.number().int().describe("log size after the commit"),
  entry: z.record(z.string(), z.unknown()),
  checkpoint: z.string().describe("the signed checkpoint covering the entry"),
});

/** The entry envelope (docs/log-format.md §Entries), for the JSON form of a self-signed submission. */
const envelope = z.strictObject({
  v: z.literal(1),
  type: z.string().max(64),
  time: timestamp,
  origin: z.string().max(255),
  actor: actorId,
  key: keyId,
  refs: z.record(z.string(), z.union([entryId, z.array(entryId).min(1)])).optional(),
  body: z.record(z.string(), z.unknown()),
  sig: z.string().max(200),
});

function refsSchema(def: AnyEntryTypeDef): z.ZodType<EntryRefs | undefined> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(def.refs)) {
    const one = spec.many ? z.array(entryId).min(1).max(256) : entryId;
    shape[name] = spec.optional ? one.optional() : one;
  }
  const required = Object.values(def.refs).some((s) => !s.optional);
  const obj = z.strictObject(shape) as unknown as z.ZodType<EntryRefs>;
  return (required ? obj : obj.optional()) as z.ZodType<EntryRefs | undefined>;
}

/** The key the node holds for the caller (SIGNING_KEY_NOT_HELD when it holds none). */
export function heldKey(api: Api, caller: Caller): HeldKey {
  const id = caller.actor.id;
  // A patient who enrolled their own key (key.self-enrolled) signs in their browser; even a key file
  // a crash left behind is retired on the log (docs/security.md "Key custody").
  if (keyCustodyOf(caller.actor) === "self")
    throw new RadledgerError(
      "SIGNING_KEY_NOT_HELD",
      `${id} holds their own key (enrolled in their browser): the node signs nothing as them; sign the entry with that key and POST it to /api/v1/entries`,
    );
  const key = api.node.heldKeys.get(id);
  if (!key)
    throw new RadledgerError(
      "SIGNING_KEY_NOT_HELD",
      `the node holds no key for ${id}: sign the entry yourself and POST it to /api/v1/entries`,
    );
  return key;
}

export interface Appended {
  readonly index: number;
  readonly leafHash: string;
  readonly size: number;
  readonly entry: unknown;
  readonly checkpoint: string;
}

async function append(api: Api, bytes: Uint8Array): Promise<Appended> {
  const { index, leafHash } = await api.node.appender.append(bytes);
  const entry = JSON.parse(fromUtf8(bytes)) as unknown;
  // A recorded erasure is carried out, whichever route recorded it (docs/security.md §Erasure).
  shredIfErasure(api.node, entry);
  return {
    index,
    leafHash,
    size: api.node.ledger.size,
    entry,
    checkpoint: api.node.ledger.latestCheckpoint!,
  };
}

/** Signs with a held key and appends; resolves once durable. */
export async function appendSigned(
  api: Api,
  key: HeldKey,
  type: string,
  body: JsonObject,
  refs: EntryRefs,
): Promise<Appended> {
  const bytes = signAs(api.node.crypto, key, api.node.config.origin, type, body, {
    refs,
    time: api.node.clock.now(),
  });
  return append(api, bytes);
}

/**
 * The actor and type of submitted entry bytes, without the full (worker-side) validation, and the
 * parsed value, which the append path then need not parse again.
 */
function peekEntry(bytes: Uint8Array): { actor: string; type: string; parsed: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch {
    return { ...decodeEntry(bytes), parsed: undefined }; // throws the precise coded error
  }
  const v = value as { actor?: unknown; type?: unknown } | null;
  if (typeof v !== "object" || v === null || typeof v.actor !== "string" || typeof v.type !== "string")
    return { ...decodeEntry(bytes), parsed: undefined };
  return { actor: v.actor, type: v.type, parsed: value };
}

/**
 * The answer of POST /api/v1/entries as JSON text, the `appended` schema's members in its order.
 * An admitted entry's bytes are canonical JSON (RFC 8785), so they are embedded as they are instead
 * of being parsed and serialised again for every request.
 */
function appendedTextOf(api: Api): (bytes: Uint8Array, index: number, leafHash: string) => string {
  let lastCheckpoint = { note: "", json: '""' };
  return (bytes, index, leafHash) => {
    const note = api.node.ledger.latestCheckpoint!;
    // One checkpoint answers the whole batch: escape its note once.
    if (lastCheckpoint.note !== note) lastCheckpoint = { note, json: JSON.stringify(note) };
    return `{"index":${index},"leafHash":"${leafHash}","size":${api.node.ledger.size},"entry":${fromUtf8(bytes)},"checkpoint":${lastCheckpoint.json}}`;
  };
}

export function registerEntryRoutes(app: FastifyInstance, api: Api): void {
  const appendedText = appendedTextOf(api);
  // The exact canonical bytes of a self-signed entry; size-limited to one leaf.
  app.addContentTypeParser(
    ENTRY_MEDIA_TYPE,
    { parseAs: "buffer", bodyLimit: MAX_ENTRY_SIZE },
    (_req, body, done) => done(null, body),
  );

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/entries/types",
    tag: "entries",
    summary:
      "Every entry type: summary, roles that may sign it, references, and the JSON Schema of its body.",
    auth: "any",
    response: {
      description: "entry types",
      schema: z.object({ items: z.array(z.record(z.string(), z.unknown())) }),
    },
    async handler() {
      return {
        items: api.node.registry.all().map((d) => ({
          type: d.type,
          summary: d.summary,
          signers: d.signers,
          refs: d.refs,
          body: z.toJSONSchema(d.body, { io: "input", unrepresentable: "any" }),
        })),
      };
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/entries",
    tag: "entries",
    summary:
      "Appends an entry the caller signed with their own enrolled key: JSON { entry } (re-encoded canonically) or the exact canonical bytes as application/vnd.radledger.entry+json.",
    auth: "any",
    body: z.strictObject({ entry: envelope }),
    bodyErrorCode: "ENTRY_MALFORMED",
    rawBody: { contentType: ENTRY_MEDIA_TYPE, description: "the entry's exact canonical JSON bytes" },
    status: 201,
    response: { description: "the durable entry", schema: appended },
    errors: [
      "FORBIDDEN_ACTOR_MISMATCH",
      "ROLE_NOT_PERMITTED",
      "ENTRY_TOO_LARGE",
      "ENTRY_MALFORMED",
      "ENTRY_BAD_SIGNATURE",
      "ENTRY_DUPLICATE",
      "ENTRY_UNKNOWN_TYPE",
      "KEY_UNKNOWN",
      "JSON_NOT_CANONICAL",
    ],
    async handler({ body, caller, reply }) {
      const bytes = Buffer.isBuffer(body)
        ? new Uint8Array(body)
        : canonicalBytes((body as { entry: unknown }).entry);
      // Only the actor is checked here; the append path checks the whole entry (size, canonical
      // form, envelope, type, schema, signature, the signer's role, the family's rules).
      const entry = peekEntry(bytes);
      if (entry.actor !== caller!.actor.id)
        throw new RadledgerError(
          "FORBIDDEN_ACTOR_MISMATCH",
          `the entry is by ${entry.actor}; you are authenticated as ${caller!.actor.id}`,
          { at: "entry.actor" },
        );
      const { index, leafHash } = await api.node.appender.append(bytes, entry.parsed);
      shredIfErasure(api.node, entry.parsed ?? JSON.parse(fromUtf8(bytes)));
      void reply.type("application/json; charset=utf-8");
      return appendedText(bytes, index, leafHash);
    },
  });

  for (const def of api.node.registry.all()) {
    const schema = z.strictObject({ body: def.body, refs: refsSchema(def) });
    // The log's own key signs these (genesis, gatekeeper records): no API caller may.
    if (def.signers.length === 1 && def.signers[0] === "institution") continue;
    defineRoute(app, api, {
      method: "POST",
      url: `/api/v1/entries/${def.type}`,
      tag: "entries",
      summary: `${def.summary} Signed by the node with the caller's held key.`,
      description: `Who may sign: ${def.signers.length === 0 ? "any enrolled actor (rules decide)" : def.signers.join(", ")}. References: ${
        Object.keys(def.refs).length === 0
          ? "none"
          : Object.entries(def.refs)
              .map(
                ([n, s]) =>
                  `${n} → ${s.types.join("|")}${s.optional ? " (optional)" : ""}${s.many ? " (list)" : ""}`,
              )
              .join("; ")
      }.`,
      // Any authenticated actor: whether their role may sign the type is the ledger's one check.
      auth: "any",
      body: schema,
      bodyErrorCode: "ENTRY_SCHEMA_INVALID",
      status: 201,
      response: { description: "the durable entry", schema: appended },
      errors: ["ROLE_NOT_PERMITTED", "SIGNING_KEY_NOT_HELD", "ENTRY_SCHEMA_INVALID", "ENTRY_REF_NOT_FOUND"],
      async handler({ body, caller }) {
        const b = body as { body: JsonObject; refs?: EntryRefs };
        return appendSigned(api, heldKey(api, caller!), def.type, b.body, b.refs ?? {});
      },
    });
  }
}

/** An entry, by index or leaf hash, with its inclusion proof against the latest checkpoint. */
export function entryWithProof(api: Api, ref: string): Record<string, unknown> {
  const node = api.node;
  let index: number;
  if (/^[0-9a-f]{64}$/.test(ref)) {
    const found = node.store.indexOfLeafHash(fromHex(ref));
    if (found === undefined) throw new RadledgerError("ENTRY_NOT_FOUND", `no entry with leaf hash ${ref}`);
    index = found;
  } else if (/^(0|[1-9][0-9]{0,15})$/.test(ref) && Number.isSafeInteger(Number(ref))) {
    index = Number(ref);
  } else {
    throw new RadledgerError("INPUT_INVALID", "expected a log index or a lowercase hex leaf hash", {
      at: "path.ref",
    });
  }
  const stored = node.store.readEntry(index);
  if (!stored) throw new RadledgerError("ENTRY_NOT_FOUND", `no entry at index ${index}`);
  const size = node.ledger.size;
  return {
    index,
    leafHash: toHex(node.ledger.tree.node(0, index)),
    entry: JSON.parse(fromUtf8(stored.bytes)) as unknown,
    inclusion: { size, proof: node.ledger.tree.inclusionProof(index, size).map(toBase64) },
    checkpoint: node.ledger.latestCheckpoint,
  };
}
