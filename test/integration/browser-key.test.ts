/**
 * Issue 20, Patient item 1, through the HTTP API and the append path: a patient enrols a key of their
 * own with a one-time enrolment code from the registrar, and from then on the node cannot forge a
 * grant or a revocation for them — not with the key it held (retired on the log: KEY_REVOKED), not
 * through the held-key API (SIGNING_KEY_NOT_HELD), not as the institution on their behalf
 * (CONSENT_NOT_PATIENT), not by an admin rotating their key (ROLE_NOT_PERMITTED). What the patient's
 * own key signs is admitted. The browser side of the same journey is test/e2e/patient-key-browser.test.ts.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { fromUtf8, toBase64 } from "../../src/core/bytes.js";
import { enrolmentChallenge, parseEnrolmentCode } from "../../src/core/enrolment.js";
import { readActorKey, type HeldKey } from "../../src/app/keys.js";
import { paths } from "../../src/app/data-dir.js";
import { issueEnrolmentCode } from "../../src/app/enrolment.js";
import { prepareBundle } from "../../src/app/bundle-export.js";
import { decide, type AccessQuery } from "../../src/domain/consent/decide.js";
import { accessRecordFor } from "../../src/domain/access/entries.js";
import { verifyBundle, type BundleMember } from "../../src/core/bundle/verify.js";
import { getActor } from "../../src/domain/identity/state.js";
import { fakePseudonym } from "../helpers/fixtures.js";
import { grantBody, onBehalf } from "../helpers/consent.js";
import { makeNode, newKey, ORIGIN } from "../helpers/node.js";
import { startApi, type ApiResponse, type TestApi } from "../helpers/api.js";

type J = Record<string, unknown>;

let api: TestApi;
let admin = "";
let now = Date.now();
const clock = { now: () => now };
const patient = fakePseudonym();
const other = fakePseudonym();

function expectProblem(r: ApiResponse, status: number, code: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.body.code).toBe(code);
}

function entriesOf(type: string): { actor: string; body: J; refs?: J }[] {
  const out: { actor: string; body: J; refs?: J }[] = [];
  for (let i = 0; i < api.t.node.ledger.size; i++) {
    const e = JSON.parse(fromUtf8(api.t.node.store.readEntry(i)!.bytes)) as {
      type: string;
      actor: string;
      body: J;
      refs?: J;
    };
    if (e.type === type) out.push(e);
  }
  return out;
}

/** The whole log as text: to show what it never contains. */
function logText(): string {
  let s = "";
  for (let i = 0; i < api.t.node.ledger.size; i++) s += fromUtf8(api.t.node.store.readEntry(i)!.bytes);
  return s;
}

/** What the browser sends: the public key and its proof over the challenge for this code. */
function enrolmentRequest(actor: string, code: string, key = newKey(actor)): { body: J; key: HeldKey } {
  const publicKey = toBase64(key.publicKey);
  const codeId = parseEnrolmentCode(code)?.id ?? "00000000";
  const proof = toBase64(
    crypto.ed25519Sign(key.seed, enrolmentChallenge({ origin: ORIGIN, actor, codeId, publicKey })),
  );
  return { body: { code, publicKey, proof }, key };
}

const issueCode = async (actor: string, body: J = {}): Promise<ApiResponse> =>
  api.call("POST", `/api/v1/actors/${actor}/enrolment-codes`, { token: admin, body });

let pt = ""; // the patient's own token
let oldKey: HeldKey;
let browser: HeldKey;

beforeAll(async () => {
  api = await startApi({}, await makeNode({ verifyThreads: 0, clock }));
  admin = await api.token("admin");
  for (const [id, body] of [
    ["pt-1", { kind: "patient", roles: ["patient"], patient }],
    ["pt-2", { kind: "patient", roles: ["patient"], patient: other }],
    ["rad-1", { kind: "staff", roles: ["radiologist"], displayName: "Dr One" }],
  ] as const)
    expect(
      (await api.call("POST", "/api/v1/actors", { token: admin, body: { actorId: id, ...body } })).status,
    ).toBe(201);
  pt = await api.token("pt-1");
  oldKey = readActorKey(crypto, api.t.dir, "pt-1")!;
}, 60_000);

afterAll(async () => api.close());

describe("enrolment codes", () => {
  test("an admin issues a code for a patient: shown once, on the log as who issued it for whom, never the secret", async () => {
    const r = await issueCode("pt-1");
    expect(r.status, r.text).toBe(201);
    const code = r.body.code as string;
    expect(code).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z]{4}$/);
    const record = r.body.record as J;
    expect(record.actor).toBe("pt-1");
    expect(record.createdBy).toBe("admin");
    // 24 hours unless asked otherwise
    expect(Date.parse(record.expiresAt as string) - Date.parse(record.createdAt as string)).toBe(86_400_000);
    const [issued] = entriesOf("enrolment-code.issued");
    expect(issued!.actor).toBe("institution");
    expect(issued!.body).toEqual({
      codeId: parseEnrolmentCode(code)!.id,
      actorId: "pt-1",
      expiresAt: record.expiresAt,
      issuedBy: "admin",
    });
    expect(logText()).not.toContain(parseEnrolmentCode(code)!.secret);
    // listed for admins, without the secret
    const list = await api.call<{ items: J[] }>("GET", "/api/v1/actors/pt-1/enrolment-codes", {
      token: admin,
    });
    expect(list.body.items.map((i) => i.id)).toContain(record.id);
    expect(list.text).not.toContain(parseEnrolmentCode(code)!.secret);
  });

  test("codes are for patients, and only admins issue them", async () => {
    expectProblem(await issueCode("rad-1"), 403, "ENROLMENT_NOT_PERMITTED");
    expectProblem(await issueCode("nobody"), 422, "ACTOR_UNKNOWN");
    expectProblem(
      await api.call("POST", "/api/v1/actors/pt-1/enrolment-codes", { token: pt, body: {} }),
      403,
      "FORBIDDEN_ROLE",
    );
    expectProblem(await issueCode("pt-1", { ttlSeconds: 31 * 86400 }), 400, "INPUT_INVALID");
  });
});

describe("enrolling the patient's browser key", () => {
  test("before: the node holds the patient's key and says so", async () => {
    const me = await api.call("GET", "/api/v1/actors/pt-1", { token: pt });
    expect(me.body.keyCustody).toBe("node");
  });

  test("wrong, someone else's, or unproven: refused with clear codes, nothing on the log", async () => {
    const code = (await issueCode("pt-1")).body.code as string;
    const size = api.t.node.ledger.size;
    // another actor's session cannot redeem it (not even an admin's: they could choose the key)
    for (const token of [admin, await api.token("pt-2")])
      expectProblem(
        await api.call("POST", "/api/v1/actors/pt-1/browser-key", {
          token,
          body: enrolmentRequest("pt-1", code).body,
        }),
        403,
        "FORBIDDEN_ACTOR_MISMATCH",
      );
    // a proof by another key than the one enrolled
    const { body } = enrolmentRequest("pt-1", code);
    const forged = { ...body, publicKey: toBase64(newKey("x").publicKey) };
    expectProblem(
      await api.call("POST", "/api/v1/actors/pt-1/browser-key", { token: pt, body: forged }),
      422,
      "ENROLMENT_PROOF_INVALID",
    );
    // a proof over another actor's challenge
    const elsewhere = enrolmentRequest("pt-2", code).body;
    expectProblem(
      await api.call("POST", "/api/v1/actors/pt-1/browser-key", { token: pt, body: elsewhere }),
      422,
      "ENROLMENT_PROOF_INVALID",
    );
    // a code for another patient
    const theirs = (await issueCode("pt-2")).body.code as string;
    expectProblem(
      await api.call("POST", "/api/v1/actors/pt-1/browser-key", {
        token: pt,
        body: enrolmentRequest("pt-1", theirs).body,
      }),
      403,
      "ENROLMENT_CODE_INVALID",
    );
    expect(api.t.node.ledger.size).toBe(size + 1); // only pt-2's code issuance
    expect(entriesOf("key.self-enrolled")).toHaveLength(0);
  });

  test("the patient enrols with a code: the new key is the only active one, the held key is retired and its file gone", async () => {
    const code = (await issueCode("pt-1")).body.code as string;
    const keyFile = paths(api.t.dir).actorKey("pt-1");
    expect(existsSync(keyFile)).toBe(true);
    const { body, key } = enrolmentRequest("pt-1", code);
    browser = key;
    const r = await api.call("POST", "/api/v1/actors/pt-1/browser-key", { token: pt, body });
    expect(r.status, r.text).toBe(201);
    expect(r.body.keyId).toBe(key.keyId);
    expect(r.body.retired).toEqual([oldKey.keyId]);
    expect(r.body.heldKeyRemoved).toBe(true);
    expect(existsSync(keyFile)).toBe(false);
    const [entry] = entriesOf("key.self-enrolled");
    expect(entry!.actor).toBe("institution");
    expect(entry!.body).toMatchObject({ actorId: "pt-1", codeId: parseEnrolmentCode(code)!.id });
    const actor = getActor(api.t.node.store, "pt-1")!;
    expect(actor.keyCustody).toBe("self");
    expect(api.t.node.store.getDoc("key", oldKey.keyId)).toMatchObject({ status: "retired" });
    expect(api.t.node.store.getDoc("key", key.keyId)).toMatchObject({ status: "active" });
    const me = await api.call("GET", "/api/v1/actors/pt-1", { token: pt });
    expect(me.body.keyCustody).toBe("self");
    // single use
    expectProblem(
      await api.call("POST", "/api/v1/actors/pt-1/browser-key", {
        token: pt,
        body: enrolmentRequest("pt-1", code).body,
      }),
      409,
      "ENROLMENT_CODE_USED",
    );
  });
});

describe("the node cannot forge the browser-keyed patient's consent", () => {
  test("the held-key path answers SIGNING_KEY_NOT_HELD", async () => {
    expectProblem(
      await api.call("POST", "/api/v1/entries/consent.granted", {
        token: pt,
        body: { body: grantBody(patient) },
      }),
      422,
      "SIGNING_KEY_NOT_HELD",
    );
  });

  test("a grant the node signs with the patient's old held key is refused by the append path (KEY_REVOKED)", async () => {
    expect(await api.t.refusal(api.t.sign(oldKey, "consent.granted", grantBody(patient), {}, now))).toBe(
      "KEY_REVOKED",
    );
  });

  test("nor as the institution or an admin on the patient's behalf, nor by rotating the patient's key", async () => {
    const body = grantBody(patient, { onBehalf: onBehalf() });
    expect(await api.t.refusal(api.t.sign(api.t.institution, "consent.granted", body, {}, now))).toBe(
      "CONSENT_NOT_PATIENT",
    );
    expect(await api.t.refusal(api.t.sign(api.t.admin, "consent.granted", body, {}, now))).toBe(
      "CONSENT_NOT_PATIENT",
    );
    const rotate = {
      actorId: "pt-1",
      oldKey: browser.keyId,
      newPublicKey: toBase64(newKey("pt-1").publicKey),
    };
    expect(await api.t.refusal(api.t.sign(api.t.admin, "key.rotated", rotate, {}, now))).toBe(
      "ROLE_NOT_PERMITTED",
    );
    // a patient who keeps the held-key path is still served on their behalf
    const theirs = grantBody(other, { onBehalf: onBehalf() });
    const r = await api.call("POST", "/api/v1/entries/consent.granted", {
      token: admin,
      body: { body: theirs },
    });
    expect(r.status, r.text).toBe(201);
  });

  test("a grant and its revocation signed by the patient's own key are admitted (POST /api/v1/entries)", async () => {
    const grant = api.t.sign(browser, "consent.granted", grantBody(patient), {}, now);
    const g = await api.call("POST", "/api/v1/entries", {
      token: pt,
      raw: grant,
      contentType: "application/vnd.radledger.entry+json",
    });
    expect(g.status, g.text).toBe(201);
    expect((g.body.entry as J).key).toBe(browser.keyId);
    const revoke = api.t.sign(
      browser,
      "consent.revoked",
      { reason: "patient-request" },
      { grant: g.body.leafHash as string },
      now,
    );
    const v = await api.call("POST", "/api/v1/entries", {
      token: pt,
      body: { entry: JSON.parse(fromUtf8(revoke)) as unknown },
    });
    expect(v.status, v.text).toBe(201);
    expect(entriesOf("consent.revoked").at(-1)!.actor).toBe("pt-1");
  });
});

describe("bundles", () => {
  test("the patient's access-history bundle carries the key.self-enrolled entry and verifies the browser-signed grant", async () => {
    // A grant the patient's browser key signs, and a read it permits, recorded by the gatekeeper.
    const grant = api.t.sign(browser, "consent.granted", grantBody(patient), {}, now + 2);
    expect((await api.t.node.appender.append(grant)).index).toBeGreaterThan(0);
    const q: AccessQuery = {
      actor: "rad-1",
      patient,
      part: { kind: "record" },
      purpose: "TREAT",
      time: new Date(now).toISOString(),
    };
    const decision = decide(api.t.node.store, q);
    expect(decision).toMatchObject({ decision: "permit", basis: { kind: "consent" } });
    const { body, refs } = accessRecordFor(q, "read", decision, {});
    await api.t.node.appender.append(api.t.sign(api.t.institution, "access.recorded", body, refs, now));
    const { members } = prepareBundle(api.t.node, { kind: "access", id: patient });
    const all: BundleMember[] = [];
    for await (const m of members) all.push(m);
    const report = await verifyBundle(all, { crypto: api.t.node.crypto, logKeys: [api.t.node.verifierKey] });
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.byType).toMatchObject({ "key.self-enrolled": 1, "consent.granted": 1 });
    const signers = report.signers;
    expect(signers.find((k) => k.key === browser.keyId)).toMatchObject({
      actor: "pt-1",
      status: "active",
      signed: 1,
    });
  });
});

describe("limits", () => {
  test("an expired code is refused (ENROLMENT_CODE_EXPIRED), by the API and by the log", async () => {
    const code = (await issueCode("pt-2", { ttlSeconds: 60 })).body.code as string;
    const t2 = await api.token("pt-2");
    now += 61_000;
    expectProblem(
      await api.call("POST", "/api/v1/actors/pt-2/browser-key", {
        token: t2,
        body: enrolmentRequest("pt-2", code).body,
      }),
      422,
      "ENROLMENT_CODE_EXPIRED",
    );
    // and the log itself refuses it, whatever an API did
    const codeId = parseEnrolmentCode(code)!.id;
    const leaf = (api.t.node.store.getDoc("enrolcode", codeId) as { id: string }).id;
    const { body } = enrolmentRequest("pt-2", code);
    const entry = {
      actorId: "pt-2",
      codeId,
      publicKey: body.publicKey as string,
      proof: body.proof as string,
    };
    expect(
      await api.t.refusal(api.t.sign(api.t.institution, "key.self-enrolled", entry, { code: leaf }, now)),
    ).toBe("ENROLMENT_CODE_EXPIRED");
  });

  test("after five wrong codes the patient's open codes are void (ENROLMENT_CODE_EXHAUSTED)", async () => {
    const good = (await issueCode("pt-2")).body.code as string;
    const t2 = await api.token("pt-2");
    const wrong = good.slice(0, -1) + (good.endsWith("0") ? "1" : "0");
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await api.call("POST", "/api/v1/actors/pt-2/browser-key", {
        token: t2,
        body: enrolmentRequest("pt-2", i === 0 ? "not a code" : wrong).body,
      });
      codes.push(r.body.code as string);
    }
    expect(codes).toEqual([
      "ENROLMENT_CODE_INVALID",
      "ENROLMENT_CODE_INVALID",
      "ENROLMENT_CODE_INVALID",
      "ENROLMENT_CODE_INVALID",
      "ENROLMENT_CODE_EXHAUSTED",
    ]);
    expectProblem(
      await api.call("POST", "/api/v1/actors/pt-2/browser-key", {
        token: t2,
        body: enrolmentRequest("pt-2", good).body,
      }),
      403,
      "ENROLMENT_CODE_EXHAUSTED",
    );
    // a new code from the registrar works
    const fresh = (await issueCode("pt-2")).body.code as string;
    const r = await api.call("POST", "/api/v1/actors/pt-2/browser-key", {
      token: t2,
      body: enrolmentRequest("pt-2", fresh).body,
    });
    expect(r.status, r.text).toBe(201);
  });

  test("the operator's command-line path issues codes as the institution, for patients only", async () => {
    const institution = getActor(api.t.node.store, "institution")!;
    const { code, record } = await issueEnrolmentCode(api.t.node, api.app.radledger.auth, {
      target: getActor(api.t.node.store, "pt-2")!,
      issuer: institution,
      ttlSeconds: 3600,
    });
    expect(parseEnrolmentCode(code)!.id).toBe(record.id);
    expect(entriesOf("enrolment-code.issued").at(-1)!.body.issuedBy).toBe("institution");
    await expect(
      issueEnrolmentCode(api.t.node, api.app.radledger.auth, {
        target: getActor(api.t.node.store, "rad-1")!,
        issuer: institution,
        ttlSeconds: 3600,
      }),
    ).rejects.toMatchObject({ code: "ENROLMENT_NOT_PERMITTED" });
  });

  test("on the log, a key.self-enrolled with a used code, or a proof over another key, is refused", async () => {
    const [issued] = entriesOf("enrolment-code.issued");
    const leaf = (api.t.node.store.getDoc("enrolcode", issued!.body.codeId as string) as { id: string }).id;
    const key = newKey("pt-1");
    const publicKey = toBase64(key.publicKey);
    const codeId = issued!.body.codeId as string;
    const proof = toBase64(
      crypto.ed25519Sign(key.seed, enrolmentChallenge({ origin: ORIGIN, actor: "pt-1", codeId, publicKey })),
    );
    // the first code of pt-1 was never redeemed: a forged proof is still refused
    const bad = { actorId: "pt-1", codeId, publicKey: toBase64(newKey("y").publicKey), proof };
    expect(
      await api.t.refusal(api.t.sign(api.t.institution, "key.self-enrolled", bad, { code: leaf }, now)),
    ).toBe("ENROLMENT_PROOF_INVALID");
    const used = entriesOf("key.self-enrolled")[0]!.body;
    const again = { actorId: "pt-1", codeId: used.codeId as string, publicKey, proof: proof };
    const usedLeaf = (api.t.node.store.getDoc("enrolcode", used.codeId as string) as { id: string }).id;
    expect(
      await api.t.refusal(api.t.sign(api.t.institution, "key.self-enrolled", again, { code: usedLeaf }, now)),
    ).toBe("ENROLMENT_CODE_USED");
  });
});
