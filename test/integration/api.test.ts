/**
 * The HTTP API end to end on a real node (127.0.0.1, random port, temporary SQLite store): actors are
 * enrolled and records created through the API, every endpoint is called by roles that may and may
 * not use it, and the gatekeeper's promises are checked on the log itself — every protected read
 * leaves exactly one access entry, a revoked grant stops access at once, a patient never reads
 * another patient's history, break-glass lands in the review queue.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { fromBase64, toBase64 } from "../../src/core/bytes.js";
import { canonicalize } from "../../src/core/canonical-json.js";
import { leafHash } from "../../src/core/merkle/hash.js";
import { verifyInclusion } from "../../src/core/merkle/verify.js";
import { parseCheckpointText } from "../../src/core/checkpoint.js";
import { ERROR_CODES } from "../../src/core/errors.js";
import { utf8 } from "../../src/core/bytes.js";
import { allEntryTypes } from "../../src/domain/registry.js";
import { fakeHash, fakePseudonym, studyBody } from "../helpers/fixtures.js";
import { newKey } from "../helpers/node.js";
import { startApi, type ApiResponse, type TestApi } from "../helpers/api.js";

let api: TestApi;
const tokens: Record<string, string> = {};
const PA = fakePseudonym();
const PB = fakePseudonym();
let study = "";
let report = "";
let section = "";
const ext = newKey("ext-1");
const PASSWORD = "correct horse battery staple";

type J = Record<string, unknown>;

function expectProblem(r: ApiResponse, status: number, code: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.type).toContain("application/problem+json");
  expect(r.body.code).toBe(code);
}

async function created(r: Promise<ApiResponse>): Promise<J> {
  const res = await r;
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const entry = (actor: string, type: string, body: J, refs?: J): Promise<J> =>
  created(
    api.call("POST", `/api/v1/entries/${type}`, {
      token: tokens[actor]!,
      body: { body, ...(refs ? { refs } : {}) },
    }),
  );

/** Access entries on the log for a patient (from the projection the gatekeeper writes). */
const accessCount = (patient: string): number => api.t.node.store.lookup("access.patient", patient).length;

beforeAll(async () => {
  api = await startApi();
  tokens.admin = await api.token("admin");
  const enrol = async (actorId: string, body: J): Promise<void> => {
    // An admin issues tokens for system actors only; a person's comes straight from the store here
    // (as if they had signed in: test/integration/api-tokens.test.ts takes that path).
    const system = body.kind === "system";
    const r = await api.call("POST", "/api/v1/actors", {
      token: tokens.admin!,
      body: { actorId, ...body, ...(system ? { token: { label: "test" } } : {}) },
    });
    expect(r.status, r.text).toBe(201);
    tokens[actorId] = system ? (r.body.token as { token: string }).token : await api.token(actorId);
  };
  await enrol("rad-1", { kind: "staff", roles: ["radiologist"], displayName: "Dr One", password: PASSWORD });
  await enrol("rad-2", { kind: "staff", roles: ["radiologist"], displayName: "Dr Two" });
  await enrol("tech-1", { kind: "staff", roles: ["technologist"] });
  await enrol("aud-1", { kind: "staff", roles: ["auditor"] });
  await enrol("cur-1", { kind: "staff", roles: ["curator"] });
  await enrol("tc-1", { kind: "staff", roles: ["trial-coordinator"] });
  await enrol("pt-a", { kind: "patient", roles: ["patient"], patient: PA });
  await enrol("pt-b", { kind: "patient", roles: ["patient"], patient: PB });
  await enrol("ext-1", { kind: "staff", roles: ["radiologist"], publicKey: toBase64(ext.publicKey) });
  await enrol("sys-1", { kind: "system", roles: ["technologist"], displayName: "PACS bridge" });

  study = (await entry("tech-1", "study.registered", studyBody(PA))).leafHash as string;
  report = (await entry("rad-1", "report.opened", { reportKind: "diagnostic" }, { study }))
    .leafHash as string;
  const vault = await created(
    api.call("POST", "/api/v1/vault", {
      token: tokens["rad-1"]!,
      body: { patient: PA, content: { text: "No acute findings." } },
    }),
  );
  section = (
    await entry(
      "rad-1",
      "report.contribution",
      {
        section: "findings",
        role: "radiologist",
        contentCommitment: vault.commitment,
        origin: "human",
      },
      { report },
    )
  ).leafHash as string;
}, 60_000);

afterAll(async () => api.close());

describe("the one append door", () => {
  test("whichever way an entry comes in, the signer's role is checked once, by the ledger, with one code", async () => {
    // ext-1 is a radiologist: it may open a report but not register a study (technologist, admin…).
    const selfSigned = api.t.sign(ext, "study.registered", studyBody(PA));
    expectProblem(
      await api.call("POST", "/api/v1/entries", {
        token: await api.token("ext-1"),
        raw: selfSigned,
        contentType: "application/vnd.radledger.entry+json",
      }),
      403,
      "ROLE_NOT_PERMITTED",
    );
    expectProblem(
      await api.call("POST", "/api/v1/entries/study.registered", {
        token: tokens["rad-1"]!,
        body: { body: studyBody(PA) },
      }),
      403,
      "ROLE_NOT_PERMITTED",
    );
  });

  test("an entry too large for a tile's entry bundle is refused by the appender's limit", async () => {
    const big = {
      ...(JSON.parse(
        new TextDecoder().decode(api.t.sign(ext, "report.opened", { reportKind: "x" }, { study })),
      ) as J),
    };
    big.body = { reportKind: "diagnostic", note: "x".repeat(70_000) };
    expectProblem(
      await api.call("POST", "/api/v1/entries", { token: await api.token("ext-1"), body: { entry: big } }),
      413,
      "ENTRY_TOO_LARGE",
    );
  });

  test("the metrics count every writer's appends, the gatekeeper's access records included", async () => {
    const admittedNow = async (): Promise<number> =>
      Number(
        /^radledger_appends_total\{outcome="admitted"\} (\d+)$/m.exec(
          (await api.call("GET", "/metrics")).text,
        )![1],
      );
    const before = await admittedNow();
    const size = api.t.node.ledger.size;
    // A read of report content appends no entry of the caller's, only the gatekeeper's record.
    const read = await api.call("GET", `/api/v1/reports/${report}/content`, { token: tokens["rad-2"]! });
    expectProblem(read, 403, "ACCESS_DENIED"); // denied, and the denial recorded
    expect(api.t.node.ledger.size).toBe(size + 1);
    expect(await admittedNow()).toBe(before + 1);
  });
});

describe("authentication", () => {
  test("no token, a malformed, unknown, expired or revoked token are 401 with their codes", async () => {
    const me = (token?: string) => api.call("GET", "/api/v1/auth/me", token === undefined ? {} : { token });
    const none = await me();
    expectProblem(none, 401, "AUTH_REQUIRED");
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expectProblem(await me("not-a-token"), 401, "AUTH_TOKEN_INVALID");
    expectProblem(await me(`rl_0123456789abcdef_${"A".repeat(43)}`), 401, "AUTH_TOKEN_INVALID");
    const valid = tokens["rad-1"]!;
    expectProblem(
      await me(valid.slice(0, -1) + (valid.endsWith("A") ? "B" : "A")),
      401,
      "AUTH_TOKEN_INVALID",
    );
    const expired = await api.token("rad-1", { now: Date.now() - 7200_000, ttlMs: 3600_000 });
    expectProblem(await me(expired), 401, "AUTH_TOKEN_EXPIRED");
    const revoked = await api.token("rad-1");
    expect((await me(revoked)).status).toBe(200);
    const id = /^rl_([0-9a-f]{16})_/.exec(revoked)![1]!;
    expect((await api.call("DELETE", `/api/v1/auth/tokens/${id}`, { token: tokens.admin! })).status).toBe(
      200,
    );
    expectProblem(await me(revoked), 401, "AUTH_TOKEN_REVOKED");
  });

  test("password login gives a session token; logout revokes it; wrong passwords are refused alike", async () => {
    // The admin set rad-1's first password at enrolment: rad-1 chooses their own before a session.
    expectProblem(
      await api.call("POST", "/api/v1/auth/login", { body: { actor: "rad-1", password: PASSWORD } }),
      403,
      "PASSWORD_CHANGE_REQUIRED",
    );
    const login = await api.call("POST", "/api/v1/auth/login", {
      body: { actor: "rad-1", password: PASSWORD, newPassword: PASSWORD },
    });
    expect(login.status, login.text).toBe(201);
    const session = login.body.token as string;
    const me = await api.call("GET", "/api/v1/auth/me", { token: session });
    expect(me.body).toMatchObject({
      actor: { id: "rad-1", roles: ["radiologist"] },
      token: { kind: "session" },
    });
    expect((await api.call("POST", "/api/v1/auth/logout", { token: session })).status).toBe(200);
    expectProblem(await api.call("GET", "/api/v1/auth/me", { token: session }), 401, "AUTH_TOKEN_REVOKED");
    for (const body of [
      { actor: "rad-1", password: "wrong password here" },
      { actor: "nobody", password: PASSWORD },
      { actor: "rad-2", password: PASSWORD }, // has no password
    ])
      expectProblem(await api.call("POST", "/api/v1/auth/login", { body }), 401, "AUTH_CREDENTIALS_INVALID");
  });

  test("tokens: admins issue them for systems; actors list and revoke their own; an actor changes their password", async () => {
    expectProblem(
      await api.call("POST", "/api/v1/auth/tokens", { token: tokens["rad-1"]!, body: { actor: "rad-1" } }),
      403,
      "TOKEN_NOT_ISSUABLE",
    );
    const issued = await api.call("POST", "/api/v1/auth/tokens", {
      token: tokens.admin!,
      body: { actor: "sys-1", ttlSeconds: 600, label: "pacs bridge" },
    });
    expect(issued.status).toBe(201);
    expectProblem(
      await api.call("POST", "/api/v1/auth/tokens", { token: tokens.admin!, body: { actor: "institution" } }),
      422,
      "ACTOR_UNKNOWN",
    );
    const own = await api.call<{ items: J[] }>("GET", "/api/v1/auth/tokens", { token: tokens["sys-1"]! });
    expect(own.body.items.every((t) => t.actor === "sys-1")).toBe(true);
    expect(own.text).not.toContain("scrypt");
    expectProblem(
      await api.call("GET", "/api/v1/auth/tokens?actor=rad-1", { token: tokens["sys-1"]! }),
      403,
      "FORBIDDEN_ROLE",
    );
    const other = (issued.body.record as J).id as string;
    expectProblem(
      await api.call("DELETE", `/api/v1/auth/tokens/${other}`, { token: tokens["rad-1"]! }),
      404,
      "RECORD_NOT_FOUND",
    );
    expect(
      (await api.call("DELETE", `/api/v1/auth/tokens/${other}`, { token: tokens["sys-1"]! })).status,
    ).toBe(200);

    const change = (token: string, body: J) =>
      api.call("PUT", "/api/v1/actors/rad-1/password", { token, body });
    expectProblem(
      await change(tokens["rad-1"]!, { password: "another long password" }),
      401,
      "AUTH_CREDENTIALS_INVALID",
    );
    expect(
      (await change(tokens["rad-1"]!, { password: "another long password", currentPassword: PASSWORD }))
        .status,
    ).toBe(204);
    expectProblem(
      await change(tokens["rad-2"]!, { password: "another long password" }),
      403,
      "FORBIDDEN_ROLE",
    );
    expect((await change(tokens.admin!, { password: PASSWORD })).status).toBe(204);
    // An admin's reset revokes all of rad-1's tokens; the later tests go on with a fresh one.
    expectProblem(
      await api.call("GET", "/api/v1/auth/me", { token: tokens["rad-1"]! }),
      401,
      "AUTH_TOKEN_REVOKED",
    );
    tokens["rad-1"] = await api.token("rad-1");
  });
});

describe("entries", () => {
  test("create with a held key, read back by index and by leaf hash with an inclusion proof", async () => {
    const e = await entry("admin", "ai.model.registered", {
      vendor: "Acme AI",
      name: "LungNet",
      version: "2.0.0",
      artifactHash: fakeHash(),
      intendedUse: "nodule detection",
    });
    expect(e).toMatchObject({ entry: { type: "ai.model.registered", actor: "admin" } });
    const byIndex = await api.call("GET", `/api/v1/log/entries/${e.index as number}`, {
      token: tokens["aud-1"]!,
    });
    const byHash = await api.call("GET", `/api/v1/log/entries/${e.leafHash as string}`, {
      token: tokens["aud-1"]!,
    });
    // The same entry at the same index; each read of an entry is one audit-log-used event (issue
    // 21 §3), so the second read's proof is against the checkpoint that includes the first's record.
    expect((byHash.body as { entry: J; index: number }).entry).toEqual((byIndex.body as { entry: J }).entry);
    expect((byHash.body as { index: number }).index).toBe((byIndex.body as { index: number }).index);
    const b = byIndex.body as {
      entry: J;
      inclusion: { size: number; proof: string[] };
      checkpoint: string;
      index: number;
    };
    const cp = parseCheckpointText(b.checkpoint.split("\n\n")[0]! + "\n");
    expect(cp.size).toBe(b.inclusion.size);
    const leaf = leafHash(crypto, utf8(canonicalize(b.entry)));
    expect(() =>
      verifyInclusion(crypto, b.index, cp.size, leaf, b.inclusion.proof.map(fromBase64), cp.root),
    ).not.toThrow();
    expectProblem(
      await api.call("GET", "/api/v1/log/entries/99999", { token: tokens["aud-1"]! }),
      404,
      "ENTRY_NOT_FOUND",
    );
    expectProblem(
      await api.call("GET", `/api/v1/log/entries/${"0".repeat(64)}`, { token: tokens["aud-1"]! }),
      404,
      "ENTRY_NOT_FOUND",
    );
  });

  test("no one signs as someone else; a caller without a signer role is 403; schema failures name the field", async () => {
    // ext-1 holds their own key: signed entries are accepted from ext-1 only, as JSON or exact bytes.
    const signed = api.t.sign(ext, "report.opened", { reportKind: "second-opinion" }, { study });
    const asJson = { entry: JSON.parse(new TextDecoder().decode(signed)) as J };
    expectProblem(
      await api.call("POST", "/api/v1/entries", { token: tokens["rad-1"]!, body: asJson }),
      403,
      "FORBIDDEN_ACTOR_MISMATCH",
    );
    const extToken = await api.token("ext-1");
    const ok = await api.call("POST", "/api/v1/entries", { token: extToken, body: asJson });
    expect(ok.status, ok.text).toBe(201);
    const raw = api.t.sign(ext, "report.opened", { reportKind: "diagnostic" }, { study });
    const rawOk = await api.call("POST", "/api/v1/entries", {
      token: extToken,
      raw: raw,
      contentType: "application/vnd.radledger.entry+json",
    });
    expect(rawOk.status, rawOk.text).toBe(201);
    expectProblem(
      await api.call("POST", "/api/v1/entries", { token: extToken, body: asJson }),
      409,
      "ENTRY_DUPLICATE",
    );
    const tampered = { entry: { ...asJson.entry, body: { reportKind: "screening" } } };
    expectProblem(
      await api.call("POST", "/api/v1/entries", { token: extToken, body: tampered }),
      422,
      "ENTRY_BAD_SIGNATURE",
    );
    // The node holds no key for ext-1.
    expectProblem(
      await api.call("POST", "/api/v1/entries/report.opened", {
        token: extToken,
        body: { body: { reportKind: "diagnostic" }, refs: { study } },
      }),
      422,
      "SIGNING_KEY_NOT_HELD",
    );
    // A patient cannot open reports; a technologist cannot sign reports.
    expectProblem(
      await api.call("POST", "/api/v1/entries/report.opened", {
        token: tokens["pt-a"]!,
        body: { body: { reportKind: "diagnostic" }, refs: { study } },
      }),
      403,
      "ROLE_NOT_PERMITTED",
    );
    const bad = await api.call("POST", "/api/v1/entries/report.opened", {
      token: tokens["rad-1"]!,
      body: { body: { reportKind: "poetry" }, refs: { study } },
    });
    expectProblem(bad, 400, "ENTRY_SCHEMA_INVALID");
    expect(bad.body.at).toBe(".body.reportKind");
    // A ledger rule refusal keeps its own code.
    expectProblem(
      await api.call("POST", "/api/v1/entries/report.opened", {
        token: tokens["rad-1"]!,
        body: { body: { reportKind: "diagnostic" }, refs: { study: fakeHash() } },
      }),
      422,
      "ENTRY_REF_NOT_FOUND",
    );
    // The institution's own records are never signed through the API.
    expectProblem(
      await api.call("POST", "/api/v1/entries/access.recorded", { token: tokens.admin!, body: { body: {} } }),
      404,
      "ROUTE_NOT_FOUND",
    );
  });

  test("every create endpoint refuses callers without a signer role and lets signers through to validation", async () => {
    const roles: Record<string, string[]> = {
      admin: ["admin"],
      "rad-1": ["radiologist"],
      "tech-1": ["technologist"],
      "aud-1": ["auditor"],
      "cur-1": ["curator"],
      "tc-1": ["trial-coordinator"],
      "pt-a": ["patient"],
    };
    for (const route of api.app.radledger.routes.filter(
      (r) => r.url.startsWith("/api/v1/entries/") && Array.isArray(r.auth),
    )) {
      const signers = route.auth as readonly string[];
      const outsider = Object.keys(roles).find((a) => !roles[a]!.some((r) => signers.includes(r)))!;
      const call = (actor: string) =>
        api.call("POST", route.url, { token: tokens[actor]!, body: { body: { unknownField: 1 } } });
      expectProblem(await call(outsider), 403, "FORBIDDEN_ROLE");
      const insider = Object.keys(roles).find((a) => roles[a]!.some((r) => signers.includes(r)));
      if (insider) expectProblem(await call(insider), 400, "ENTRY_SCHEMA_INVALID");
    }
  });

  test("entry types list every type with its body schema", async () => {
    const r = await api.call<{ items: J[] }>("GET", "/api/v1/entries/types", { token: tokens["tech-1"]! });
    expect(r.body.items.map((i) => i.type)).toEqual(allEntryTypes.map((d) => d.type));
  });
});

describe("the gatekeeper", () => {
  const read = (actor: string, query = "") =>
    api.call("GET", `/api/v1/reports/${report}/content${query}`, { token: tokens[actor]! });

  test("a patient reads their own report text; every read leaves exactly one access entry", async () => {
    const before = accessCount(PA);
    const size = api.t.node.ledger.size;
    const r = await read("pt-a");
    expect(r.status, r.text).toBe(200);
    expect(r.body.access).toMatchObject({ decision: "permit", basis: { kind: "patient" } });
    expect((r.body.sections as J[])[0]).toMatchObject({
      id: section,
      content: { text: "No acute findings." },
    });
    expect(accessCount(PA)).toBe(before + 1);
    expect(api.t.node.ledger.size).toBe(size + 1);
    const recorded = await api.call("GET", `/api/v1/log/entries/${(r.body.access as J).id as string}`, {
      token: tokens["aud-1"]!,
    });
    expect(recorded.body.entry).toMatchObject({
      type: "access.recorded",
      actor: "institution",
      body: { actor: "pt-a", decision: "permit" },
    });
  });

  test("a grant permits, its revocation stops access at once; denials are recorded too", async () => {
    let before = accessCount(PA);
    const denied = await read("rad-2");
    expectProblem(denied, 403, "ACCESS_DENIED");
    expect(denied.body.reason).toBe("no-grant");
    expect(accessCount(PA)).toBe(before + 1);

    const grant = await entry("pt-a", "consent.granted", {
      patient: PA,
      grantee: { kind: "actor", id: "rad-2" },
      scope: { kind: "reports-only" },
      purposes: ["TREAT"],
      period: { start: "2020-01-01T00:00:00.000Z" },
    });
    before = accessCount(PA);
    const permitted = await read("rad-2", "?purpose=TREAT");
    expect(permitted.status, permitted.text).toBe(200);
    expect(permitted.body.access).toMatchObject({ basis: { kind: "consent", grant: grant.leafHash } });
    const one = await api.call("GET", `/api/v1/reports/${report}/sections/${section}/content`, {
      token: tokens["rad-2"]!,
    });
    expect(one.status, one.text).toBe(200);
    expect(accessCount(PA)).toBe(before + 2);

    await entry(
      "pt-a",
      "consent.revoked",
      { reason: "patient-request" },
      { grant: grant.leafHash as string },
    );
    before = accessCount(PA);
    const after = await read("rad-2", "?purpose=TREAT");
    expectProblem(after, 403, "ACCESS_DENIED");
    expect(after.body.reason).toBe("revoked");
    expect(accessCount(PA)).toBe(before + 1);
  });

  test("break-glass is an explicit request with a reason: permitted, recorded, queued for review", async () => {
    const r = await api.call("POST", `/api/v1/reports/${report}/content`, {
      token: tokens["rad-2"]!,
      body: {
        breakGlass: { reason: "patient-unable-to-consent", justification: "trauma bay, no consent possible" },
      },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.access).toMatchObject({
      basis: { kind: "break-glass", reason: "patient-unable-to-consent" },
      review: true,
    });
    const id = (r.body.access as J).id as string;
    const onLog = await api.call("GET", `/api/v1/log/entries/${id}`, { token: tokens["aud-1"]! });
    expect(JSON.stringify(onLog.body)).not.toContain("trauma bay"); // the free text stays in the vault
    const queue = await api.call<{ items: J[] }>("GET", "/api/v1/access/break-glass", {
      token: tokens["aud-1"]!,
    });
    expect(queue.body.items.map((a) => a.id)).toContain(id);
    expectProblem(
      await api.call("GET", "/api/v1/access/break-glass", { token: tokens["rad-1"]! }),
      403,
      "FORBIDDEN_ROLE",
    );
    // A patient cannot break the glass into another patient's record.
    expectProblem(
      await api.call("POST", `/api/v1/reports/${report}/content`, {
        token: tokens["pt-b"]!,
        body: { breakGlass: { reason: "other", justification: "I would like to see this report." } },
      }),
      403,
      "ACCESS_DENIED",
    );
    await entry("aud-1", "access.reviewed", { outcome: "justified" }, { access: id });
    const after = await api.call<{ items: J[] }>("GET", "/api/v1/access/break-glass", {
      token: tokens["aud-1"]!,
    });
    expect(after.body.items.map((a) => a.id)).not.toContain(id);
  });

  test("break-glass: a reason from the value set, a required justification in the vault, roles per policy", async () => {
    const breakGlass = (token: string, bg: J): Promise<ApiResponse> =>
      api.call("POST", `/api/v1/reports/${report}/content`, { token, body: { breakGlass: bg } });
    const justification = "Stroke code: prior CT needed before thrombolysis.";
    // Free text in the reason code, or no justification: refused before anything is recorded.
    const before = accessCount(PA);
    const free = await breakGlass(tokens["rad-2"]!, { reason: "because-i-want", justification });
    expectProblem(free, 400, "INPUT_INVALID");
    expect(free.body.at).toBe(".breakGlass.reason");
    const bare = await breakGlass(tokens["rad-2"]!, { reason: "urgent-clinical-need" });
    expectProblem(bare, 400, "INPUT_INVALID");
    expect(bare.body.at).toBe(".breakGlass.justification");
    expectProblem(
      await breakGlass(tokens["rad-2"]!, { reason: "urgent-clinical-need", justification: "   " }),
      400,
      "INPUT_INVALID",
    );
    expect(accessCount(PA)).toBe(before);
    // A technologist is not in the default break-glass policy (radiologist, clinician): a recorded deny.
    const tech = await breakGlass(tokens["tech-1"]!, { reason: "urgent-clinical-need", justification });
    expectProblem(tech, 403, "ACCESS_DENIED");
    expect(tech.body.reason).toBe("break-glass-not-permitted");
    expect(accessCount(PA)).toBe(before + 1);
    // A radiologist breaks the glass: the log has the reason code and the justification's commitment,
    // the vault the text, and the auditor's queue shows it.
    const r = await breakGlass(tokens["rad-2"]!, { reason: "urgent-clinical-need", justification });
    expect(r.status, r.text).toBe(200);
    const id = (r.body.access as J).id as string;
    const onLog = api.t.node.store.getDoc("access", id) as {
      basis: { reason: string; reasonCommitment?: string };
    };
    expect(onLog.basis.reason).toBe("urgent-clinical-need");
    expect(onLog.basis.reasonCommitment).toMatch(/^[0-9a-f]{64}$/);
    expect(api.t.node.vault.get(onLog.basis.reasonCommitment!)?.content).toEqual({ justification });
    const queue = await api.call<{ items: J[] }>("GET", "/api/v1/access/break-glass", {
      token: tokens["aud-1"]!,
    });
    expect(queue.body.items.find((a) => a.id === id)).toMatchObject({
      basis: { kind: "break-glass", reason: "urgent-clinical-need" },
      justification,
    });
    await entry("aud-1", "access.reviewed", { outcome: "justified" }, { access: id });
  });

  test("the gatekeeper is reusable: authorize() decides, records and returns", async () => {
    const before = accessCount(PA);
    const outcome = await api.app.radledger.gatekeeper.authorize({
      actor: "rad-1",
      patient: PA,
      part: { kind: "study", id: study },
      action: "download",
      purpose: "TREAT",
    });
    expect(outcome.decision).toMatchObject({ decision: "deny", reason: "no-grant" });
    expect(accessCount(PA)).toBe(before + 1);
  });
});

describe("patients see only their own record", () => {
  test("a patient cannot read another patient's history; the attempt is on that patient's history", async () => {
    const own = await api.call<{ items: J[] }>("GET", `/api/v1/patients/${PA}/access`, {
      token: tokens["pt-a"]!,
    });
    expect(own.status).toBe(200);
    expect(own.body.items.length).toBeGreaterThan(0);
    expect(own.body.items.every((a) => a.patient === PA)).toBe(true);

    const before = accessCount(PA);
    const other = await api.call("GET", `/api/v1/patients/${PA}/access`, { token: tokens["pt-b"]! });
    expectProblem(other, 403, "FORBIDDEN_NOT_OWN_RECORD");
    expect(accessCount(PA)).toBe(before + 1);
    const audit = await api.call<{ items: J[] }>("GET", `/api/v1/patients/${PA}/access`, {
      token: tokens["aud-1"]!,
    });
    expect(audit.body.items[0]).toMatchObject({
      id: other.body.access,
      who: { actor: "pt-b" },
      decision: "deny",
      reason: "not-own-record",
      part: { kind: "record" },
    });
    for (const path of ["grants", "studies", "reports", "care"])
      expectProblem(
        await api.call("GET", `/api/v1/patients/${PA}/${path}`, { token: tokens["pt-b"]! }),
        403,
        "FORBIDDEN_NOT_OWN_RECORD",
      );
    expectProblem(
      await api.call("GET", `/api/v1/reports/${report}`, { token: tokens["pt-b"]! }),
      403,
      "FORBIDDEN_NOT_OWN_RECORD",
    );
    expectProblem(
      await api.call("GET", `/api/v1/studies/${study}`, { token: tokens["pt-b"]! }),
      403,
      "FORBIDDEN_NOT_OWN_RECORD",
    );
    expect((await api.call("GET", `/api/v1/reports/${report}`, { token: tokens["pt-a"]! })).status).toBe(200);
    const grants = await api.call<{ items: J[] }>("GET", `/api/v1/patients/${PA}/grants`, {
      token: tokens["pt-a"]!,
    });
    expect(grants.body.items[0]).toMatchObject({ status: "revoked" });
    // A curator is no reader of clinical records: refused and recorded with reason role-not-permitted.
    const cur = await api.call("GET", `/api/v1/reports/${report}`, { token: tokens["cur-1"]! });
    expectProblem(cur, 403, "FORBIDDEN_ROLE");
    expect(cur.body.reason).toBe("role-not-permitted");
  });
});

describe("every query endpoint, by roles that may and may not use it", () => {
  test.each([
    ["/api/v1/reports", "rad-1", "pt-a"],
    ["/api/v1/studies", "tech-1", "cur-1"],
    ["/api/v1/patients", "aud-1", "rad-1"],
    ["/api/v1/actors", "admin", "rad-1"],
    ["/api/v1/ai/models", "pt-a", undefined],
    ["/api/v1/trials", "tc-1", "pt-a"],
    ["/api/v1/datasets", "cur-1", "rad-1"],
    ["/api/v1/access/break-glass", "aud-1", "admin"],
    ["/api/v1/actors/rad-1/access", "rad-1", "rad-2"],
    ["/api/v1/grantees/actor/rad-2/grants", "rad-2", "rad-1"],
  ])("GET %s: %s may, %s may not", async (path, may, mayNot) => {
    const ok = await api.call("GET", path, { token: tokens[may]! });
    expect(ok.status, ok.text).toBe(200);
    expect(Array.isArray(ok.body.items)).toBe(true);
    if (mayNot) expectProblem(await api.call("GET", path, { token: tokens[mayNot]! }), 403, "FORBIDDEN_ROLE");
  });

  test("reports, studies, AI recall, consent decision, trials and datasets answer their queries", async () => {
    const view = await api.call("GET", `/api/v1/reports/${report}`, { token: tokens["rad-2"]! });
    expect(view.body).toMatchObject({
      id: report,
      patient: PA,
      sections: [{ id: section, author: "rad-1", authorName: "Dr One" }],
    });
    expect(
      (await api.call("GET", `/api/v1/reports/${report}/models`, { token: tokens["rad-1"]! })).body,
    ).toEqual({ items: [] });
    const rec = await api.call("GET", `/api/v1/studies/${study}`, { token: tokens["rad-1"]! });
    expect((rec.body.referencedBy as J[]).some((r) => r.type === "report.opened")).toBe(true);
    const patients = await api.call<{ items: J[] }>("GET", "/api/v1/patients?limit=1", {
      token: tokens["aud-1"]!,
    });
    expect(patients.body.items).toEqual([{ id: PA }]);
    const models = await api.call<{ items: J[] }>("GET", "/api/v1/ai/models", { token: tokens["rad-1"]! });
    const model = models.body.items[0]!;
    const recall = await api.call("GET", `/api/v1/ai/models/${model.id as string}/recall`, {
      token: tokens["aud-1"]!,
    });
    expect(recall.body).toMatchObject({ model: { name: "LungNet" }, reports: [], uses: 0 });
    const byName = await api.call("GET", "/api/v1/ai/recall?vendor=Acme%20AI&name=LungNet&version=2.0.0", {
      token: tokens["rad-1"]!,
    });
    expect(byName.body).toEqual(recall.body);
    expectProblem(
      await api.call("GET", `/api/v1/ai/models/${model.id as string}/recall`, { token: tokens["cur-1"]! }),
      403,
      "FORBIDDEN_ROLE",
    );

    const decision = await api.call("POST", "/api/v1/consent/decide", {
      token: tokens["rad-2"]!,
      body: { patient: PA, part: { kind: "study", id: study }, purpose: "TREAT" },
    });
    expect(decision.body).toMatchObject({ decision: "deny", reason: "outside-scope" }); // the revoked grant was reports-only
    expectProblem(
      await api.call("POST", "/api/v1/consent/decide", {
        token: tokens["rad-2"]!,
        body: { actor: "rad-1", patient: PA, part: { kind: "study", id: study }, purpose: "TREAT" },
      }),
      403,
      "FORBIDDEN_ROLE",
    );

    const trial = await entry("tc-1", "trial.registered", {
      sponsor: "Acme Pharma",
      protocolId: "ONC-1",
      timepoints: ["baseline"],
    });
    const subject = await entry(
      "tc-1",
      "trial.subject.enrolled",
      { subject: fakePseudonym("ts_") },
      { trial: trial.leafHash as string },
    );
    const tp = await entry(
      "tc-1",
      "trial.timepoint.imaged",
      { timepoint: "baseline", modality: "CT", instanceCount: 10, manifestRoot: fakeHash() },
      { subject: subject.leafHash as string },
    );
    const subjects = await api.call<{ items: J[] }>(
      "GET",
      `/api/v1/trials/${trial.leafHash as string}/subjects`,
      { token: tokens["tc-1"]! },
    );
    expect(subjects.body.items).toHaveLength(1);
    const timeline = await api.call<{ items: J[] }>(
      "GET",
      `/api/v1/trial-subjects/${subject.leafHash as string}/timeline`,
      { token: tokens["rad-1"]! },
    );
    expect(timeline.body.items.map((i) => i.kind)).toEqual(["enrolment", "timepoint"]);
    const reads = await api.call<{ items: J[] }>(
      "GET",
      `/api/v1/trial-timepoints/${tp.leafHash as string}/reads`,
      { token: tokens["tc-1"]! },
    );
    expect(reads.body.items).toEqual([]);
    const bySubject = await api.call(
      "GET",
      `/api/v1/trials/${trial.leafHash as string}/subjects/by-pseudonym/${(subject.entry as { body: { subject: string } }).body.subject}`,
      { token: tokens["tc-1"]! },
    );
    expect(bySubject.body.id).toBe(subject.leafHash);

    const ds = await entry("cur-1", "dataset.created", { name: "Chest CT nodules", purpose: "training" });
    const dsId = ds.leafHash as string;
    await entry(
      "cur-1",
      "dataset.item.added",
      { manifestRoot: fakeHash(), instanceCount: 3, sourceInstitution: "Test Hospital" },
      { dataset: dsId },
    );
    for (const suffix of ["items", "annotations", "vendor-contributions", "shares", "validations"]) {
      const r = await api.call("GET", `/api/v1/datasets/${dsId}/${suffix}`, { token: tokens["cur-1"]! });
      expect(r.status, `${suffix}: ${r.text}`).toBe(200);
    }
    const credits = await api.call("GET", `/api/v1/datasets/${dsId}/credits`, { token: tokens["cur-1"]! });
    expect(credits.body).toMatchObject({ version: 1, sealed: false, totals: { items: 1 } });
    const proposal = await api.call("GET", `/api/v1/datasets/${dsId}/seal-proposal`, {
      token: tokens["cur-1"]!,
    });
    expect(proposal.body).toMatchObject({ version: 1, items: 1 });
    const contents = await api.call("GET", `/api/v1/datasets/${dsId}/versions/1`, {
      token: tokens["cur-1"]!,
    });
    expect(contents.body).toMatchObject({ version: 1, sealed: false });
    expectProblem(
      await api.call("GET", `/api/v1/datasets/${dsId}/versions/9`, { token: tokens["cur-1"]! }),
      404,
      "RECORD_NOT_FOUND",
    );
  });

  test("lists page with cursors", async () => {
    const first = await api.call<{ items: J[]; next?: string }>("GET", "/api/v1/actors?limit=2", {
      token: tokens.admin!,
    });
    expect(first.body.items).toHaveLength(2);
    expect(typeof first.body.next).toBe("string");
    const second = await api.call<{ items: J[] }>("GET", `/api/v1/actors?limit=2&after=${first.body.next!}`, {
      token: tokens.admin!,
    });
    expect(second.body.items[0]!.id).not.toBe(first.body.items[1]!.id);
    expectProblem(
      await api.call("GET", "/api/v1/actors?limit=0", { token: tokens.admin! }),
      400,
      "INPUT_INVALID",
    );
    expectProblem(
      await api.call("GET", "/api/v1/actors?colour=blue", { token: tokens.admin! }),
      400,
      "INPUT_INVALID",
    );
  });
});

describe("documentation and operations", () => {
  test("the OpenAPI 3.1 document covers every route and every entry type, from the validating schemas", async () => {
    const r = await api.call<{ openapi: string; paths: Record<string, Record<string, J>> }>(
      "GET",
      "/api/v1/openapi.json",
    );
    expect(r.body.openapi).toBe("3.1.0");
    for (const spec of api.app.radledger.routes) {
      const path = spec.url.replace(/:([A-Za-z]+)/g, "{$1}");
      expect(r.body.paths[path]?.[spec.method.toLowerCase()], `${spec.method} ${path}`).toBeDefined();
    }
    for (const def of allEntryTypes.filter((d) => d.signers.join() !== "institution"))
      expect(r.body.paths[`/api/v1/entries/${def.type}`]?.post, def.type).toBeDefined();
    const op = r.body.paths["/api/v1/entries/report.opened"]!.post as {
      requestBody: { content: Record<string, { schema: J }> };
    };
    expect(JSON.stringify(op.requestBody.content["application/json"]!.schema)).toContain("second-opinion");
    const page = await api.call("GET", "/api/v1/docs");
    expect(page.type).toContain("text/html");
    expect(page.text).toContain("/api/v1/reports/:id/content");
  });

  test("health, readiness and Prometheus metrics", async () => {
    expect((await api.call("GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await api.call("GET", "/readyz")).body).toMatchObject({ status: "ready" });
    const m = await api.call("GET", "/metrics");
    expect(m.type).toContain("text/plain");
    expect(m.text).toMatch(/radledger_appends_total\{outcome="admitted"\} [1-9]/);
    expect(m.text).toMatch(/radledger_access_decisions_total\{decision="permit",basis="patient"\} [1-9]/);
    expect(m.text).toMatch(/radledger_access_decisions_total\{decision="deny",basis="no-grant"\} [1-9]/);
    expect(m.text).toContain("radledger_commit_batch_entries_bucket");
    expect(m.text).toMatch(/radledger_checkpoint_size [1-9]/);
    expect(m.text).toContain('route="/api/v1/reports/:id/content"');
  });

  test("logs are JSON lines with request ids and actors, and carry no tokens, passwords or query strings", async () => {
    const r = await api.call("GET", `/api/v1/patients/${PA}/access?limit=5`, {
      token: tokens["aud-1"]!,
      headers: { "x-request-id": "req-123" },
    });
    expect(r.headers.get("x-request-id")).toBe("req-123");
    const lines = api.logs.map((l) => JSON.parse(l) as J);
    expect(
      lines.some(
        (l) => l.reqId === "req-123" && l.actor === "aud-1" && l.route === "/api/v1/patients/:patient/access",
      ),
    ).toBe(true);
    const all = api.logs.join("\n");
    for (const secret of Object.values(tokens)) expect(all).not.toContain(secret.slice(20));
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain("limit=5");
    expect(all).not.toContain("No acute findings");
  });

  test("problem responses use only documented codes", async () => {
    const r = await api.call("GET", "/api/v1/nowhere");
    expectProblem(r, 404, "ROUTE_NOT_FOUND");
    expect(Object.keys(ERROR_CODES)).toContain(r.body.code);
  });
});
