/** The pseudonym link (consortium family) and the consortium queries over a log and a mirror-like view. */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../adapters/node-crypto/crypto.js";
import { toBase64 } from "../../core/bytes.js";
import type { JsonObject } from "../../core/canonical-json.js";
import { actorKeyId } from "../../core/entry.js";
import { readActorKey, readLogKeySeed, signAs, type HeldKey } from "../../app/keys.js";
import type { RadledgerNode } from "../../app/node.js";
import { INSTITUTION_ACTOR } from "../identity/state.js";
import { fakePseudonym } from "../../../test/helpers/fixtures.js";
import { initNode, open } from "../../../test/helpers/consortium.js";
import { newKey } from "../../../test/helpers/node.js";
import { consortiumAccessHistory, grantsNamingInstitution, linkedPseudonyms } from "./queries.js";

interface Log {
  origin: string;
  node: RadledgerNode;
  admin: HeldKey;
  institution: HeldKey;
  remove(): void;
}

const logs: Log[] = [];
async function makeLog(origin: string): Promise<Log> {
  const d = await initNode(origin);
  const node = open(d.dir);
  const log: Log = {
    origin,
    node,
    admin: readActorKey(crypto, d.dir, "admin")!,
    institution: {
      actor: INSTITUTION_ACTOR,
      seed: readLogKeySeed(d.dir),
      publicKey: node.logKey.publicKey,
      keyId: actorKeyId(crypto, node.logKey.publicKey),
    },
    remove: () => d.remove(),
  };
  logs.push(log);
  return log;
}

const append = async (l: Log, key: HeldKey, type: string, body: JsonObject): Promise<string> =>
  (await l.node.appender.append(signAs(crypto, key, l.origin, type, body))).leafHash;

async function refusal(l: Log, key: HeldKey, type: string, body: JsonObject): Promise<string> {
  const [r] = await l.node.appender.appendAll([signAs(crypto, key, l.origin, type, body)]);
  return r!.ok ? "ADMITTED" : r!.error.code;
}

async function patient(l: Log, id: string, pseudonym: string): Promise<HeldKey> {
  const key = newKey(id);
  await append(l, l.admin, "actor.enrolled", {
    actorId: id,
    kind: "patient",
    roles: ["patient"],
    publicKey: toBase64(key.publicKey),
    patient: pseudonym,
  });
  return key;
}

let a: Log;
let b: Log;
beforeEach(async () => {
  a = await makeLog("radledger.link-a.example/log");
  b = await makeLog("radledger.link-b.example/log");
});
afterEach(async () => {
  for (const l of logs.splice(0)) {
    await l.node.close();
    l.remove();
  }
});

describe("patient.pseudonym.linked", () => {
  test("only the patient links their own pseudonym, to another institution's log, once", async () => {
    const pA = fakePseudonym();
    const ptA = await patient(a, "pt-a", pA);
    const other = fakePseudonym();
    const link = { patient: pA, origin: b.origin, pseudonym: other };
    expect(await refusal(a, a.admin, "patient.pseudonym.linked", link)).toBe("ROLE_NOT_PERMITTED");
    expect(await refusal(a, ptA, "patient.pseudonym.linked", { ...link, patient: fakePseudonym() })).toBe(
      "PSEUDONYM_LINK_INVALID",
    );
    expect(await refusal(a, ptA, "patient.pseudonym.linked", { ...link, origin: a.origin })).toBe(
      "PSEUDONYM_LINK_INVALID",
    );
    expect(await refusal(a, ptA, "patient.pseudonym.linked", { ...link, origin: "has space" })).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    await append(a, ptA, "patient.pseudonym.linked", link);
    expect(await refusal(a, ptA, "patient.pseudonym.linked", link)).toBe("PSEUDONYM_LINK_EXISTS");
  });

  test("histories are joined only when both logs carry the patient's statement", async () => {
    const pA = fakePseudonym();
    const pB = fakePseudonym();
    const ptA = await patient(a, "pt-a", pA);
    const ptB = await patient(b, "pt-b", pB);
    await append(a, ptA, "patient.pseudonym.linked", { patient: pA, origin: b.origin, pseudonym: pB });
    const own = { origin: a.origin, state: a.node.store };
    const mirrors = [{ origin: b.origin, state: b.node.store }];
    expect(linkedPseudonyms(own, mirrors, pA)).toEqual([
      { origin: b.origin, pseudonym: pB, confirmed: false },
    ]);
    expect(consortiumAccessHistory(own, mirrors, pA).map((h) => h.origin)).toEqual([a.origin]);
    await append(b, ptB, "patient.pseudonym.linked", { patient: pB, origin: a.origin, pseudonym: pA });
    expect(linkedPseudonyms(own, mirrors, pA)[0]!.confirmed).toBe(true);
    expect(consortiumAccessHistory(own, mirrors, pA).map((h) => [h.origin, h.pseudonym])).toEqual([
      [a.origin, pA],
      [b.origin, pB],
    ]);
    // A patient at B who links to someone else's pseudonym at A does not confirm A's patient's link.
    const pC = fakePseudonym();
    const ptC = await patient(b, "pt-c", pC);
    await append(b, ptC, "patient.pseudonym.linked", {
      patient: pC,
      origin: a.origin,
      pseudonym: fakePseudonym(),
    });
    expect(linkedPseudonyms(own, mirrors, pA)).toHaveLength(1);
  });

  test("grants naming this institution are found in peers' logs", async () => {
    const pB = fakePseudonym();
    const ptB = await patient(b, "pt-b", pB);
    const grant = (id: string): JsonObject => ({
      patient: pB,
      grantee: { kind: "institution", id },
      scope: { kind: "all-imaging" },
      purposes: ["TREAT"],
      period: { start: "2020-01-01T00:00:00.000Z" },
    });
    const g = await append(b, ptB, "consent.granted", grant(a.origin));
    await append(b, ptB, "consent.granted", grant("radledger.elsewhere.example/log"));
    const found = grantsNamingInstitution({ origin: a.origin, state: a.node.store }, [
      { origin: b.origin, state: b.node.store },
    ]);
    expect(found.map((x) => [x.origin, x.id, x.status])).toEqual([[b.origin, g, "active"]]);
  });
});
