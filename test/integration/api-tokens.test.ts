/**
 * Issue 18, finding 2, through the HTTP API: an admin could obtain a token for any actor and act as
 * them (a patient reading their own record, a radiologist opening a report with the key the node
 * holds for them), and no issuance was on the log. Now a person's token goes only to that person,
 * after their own sign-in; an admin's only to system actors; every issuance, revocation and password
 * set is an entry; and content a system enters on a clinician's behalf names both, in the entry, the
 * report view and FHIR Provenance.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fromUtf8 } from "../../src/core/bytes.js";
import { fakeHash, fakePseudonym, studyBody } from "../helpers/fixtures.js";
import { startApi, type ApiResponse, type TestApi } from "../helpers/api.js";

type J = Record<string, unknown>;

let api: TestApi;
let admin = "";
const PASSWORD = "correct horse battery staple";
const OWN_PASSWORD = "my very own passphrase";

function expectProblem(r: ApiResponse, status: number, code: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.body.code).toBe(code);
}

/** The entries of a type on the log, parsed, in log order. */
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

const enrol = async (actorId: string, body: J): Promise<ApiResponse> =>
  api.call("POST", "/api/v1/actors", { token: admin, body: { actorId, ...body } });

beforeAll(async () => {
  api = await startApi();
  admin = await api.token("admin");
  for (const [id, body] of [
    ["pt-1", { kind: "patient", roles: ["patient"], patient: fakePseudonym() }],
    ["rad-1", { kind: "staff", roles: ["radiologist"], displayName: "Dr One", password: PASSWORD }],
    ["ris-1", { kind: "system", roles: ["integration"], displayName: "RIS bridge" }],
  ] as const)
    expect((await enrol(id, body)).status).toBe(201);
}, 60_000);

afterAll(async () => api.close());

describe("who may obtain a token for whom", () => {
  test("an admin asks a token for a patient or a radiologist: refused, nothing issued", async () => {
    for (const actor of ["pt-1", "rad-1"]) {
      expectProblem(
        await api.call("POST", "/api/v1/auth/tokens", { token: admin, body: { actor } }),
        403,
        "TOKEN_NOT_ISSUABLE",
      );
      expect(api.app.radledger.auth.listTokens(actor)).toEqual([]);
    }
    // Nor at enrolment: a person's first token is not the admin's to take.
    expectProblem(
      await enrol("rad-2", { kind: "staff", roles: ["radiologist"], token: {} }),
      403,
      "TOKEN_NOT_ISSUABLE",
    );
    expect((await api.call("GET", "/api/v1/actors/rad-2", { token: admin })).status).toBe(404);
    expect(entriesOf("token.issued").filter((e) => e.body.actorId !== "ris-1")).toEqual([]);
  });

  test("an admin issues a token for a system actor: on the log; so is its revocation", async () => {
    const issued = await api.call<{ token: string; record: J }>("POST", "/api/v1/auth/tokens", {
      token: admin,
      body: { actor: "ris-1", label: "RIS" },
    });
    expect(issued.status, issued.text).toBe(201);
    const id = issued.body.record.id as string;
    const entry = entriesOf("token.issued").find((e) => e.body.tokenId === id)!;
    expect(entry).toMatchObject({
      actor: "institution",
      body: { actorId: "ris-1", kind: "api", issuedBy: "admin" },
    });
    // The id only: neither the secret nor its hash.
    // rl_<16 hex id>_<base64url secret>: the secret may itself contain "_", so cut at the position.
    const secret = issued.body.token.slice("rl_".length + 16 + 1);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(entry)).not.toContain(secret);
    expect(JSON.stringify(entry)).not.toContain("scrypt");

    expect((await api.call("DELETE", `/api/v1/auth/tokens/${id}`, { token: admin })).status).toBe(200);
    const revoked = entriesOf("token.revoked").find((e) => e.body.tokenId === id)!;
    expect(revoked).toMatchObject({
      actor: "institution",
      body: { actorId: "ris-1", revokedBy: "admin", reason: "revoked" },
    });
    expect(revoked.refs?.token).toBeDefined();
    expectProblem(
      await api.call("GET", "/api/v1/auth/me", { token: issued.body.token }),
      401,
      "AUTH_TOKEN_REVOKED",
    );
  });

  test("a person signs in (choosing their own password first) and mints their own API token; all on the log", async () => {
    expectProblem(
      await api.call("POST", "/api/v1/auth/login", { body: { actor: "rad-1", password: PASSWORD } }),
      403,
      "PASSWORD_CHANGE_REQUIRED",
    );
    const login = await api.call<{ token: string; record: J }>("POST", "/api/v1/auth/login", {
      body: { actor: "rad-1", password: PASSWORD, newPassword: OWN_PASSWORD },
    });
    expect(login.status, login.text).toBe(201);
    expect(entriesOf("password.set").map((e) => e.body)).toEqual([
      { actorId: "rad-1", setBy: "admin" },
      { actorId: "rad-1", setBy: "rad-1" },
    ]);
    const session = login.body.token;
    expect(entriesOf("token.issued").find((e) => e.body.tokenId === login.body.record.id)).toMatchObject({
      body: { actorId: "rad-1", kind: "session", issuedBy: "rad-1" },
    });

    const own = await api.call<{ token: string; record: J }>("POST", "/api/v1/auth/tokens", {
      token: session,
      body: { label: "my CLI" },
    });
    expect(own.status, own.text).toBe(201);
    expect(own.body.record).toMatchObject({ actor: "rad-1", kind: "api", createdBy: "rad-1" });
    expect(entriesOf("token.issued").find((e) => e.body.tokenId === own.body.record.id)).toMatchObject({
      body: { actorId: "rad-1", kind: "api", issuedBy: "rad-1" },
    });
    // An API token does not mint another (sign in again for that), nor a token for someone else.
    expectProblem(
      await api.call("POST", "/api/v1/auth/tokens", { token: own.body.token, body: {} }),
      403,
      "TOKEN_NOT_ISSUABLE",
    );
    expectProblem(
      await api.call("POST", "/api/v1/auth/tokens", { token: session, body: { actor: "pt-1" } }),
      403,
      "TOKEN_NOT_ISSUABLE",
    );

    expect((await api.call("POST", "/api/v1/auth/logout", { token: session })).status).toBe(200);
    expect(entriesOf("token.revoked").find((e) => e.body.tokenId === login.body.record.id)).toMatchObject({
      body: { actorId: "rad-1", revokedBy: "rad-1", reason: "logout" },
    });
  });

  test("an admin's password reset is on the log, revokes the person's tokens and opens no session as them", async () => {
    const login = await api.call<{ token: string }>("POST", "/api/v1/auth/login", {
      body: { actor: "rad-1", password: OWN_PASSWORD },
    });
    expect(login.status, login.text).toBe(201);
    const reset = "admin chosen passphrase";
    const r = await api.call("PUT", "/api/v1/actors/rad-1/password", {
      token: admin,
      body: { password: reset },
    });
    expect(r.status, r.text).toBe(204);
    expect(entriesOf("password.set").at(-1)!.body).toEqual({ actorId: "rad-1", setBy: "admin" });
    expectProblem(
      await api.call("GET", "/api/v1/auth/me", { token: login.body.token }),
      401,
      "AUTH_TOKEN_REVOKED",
    );
    expect(entriesOf("token.revoked").at(-1)).toMatchObject({
      body: { actorId: "rad-1", revokedBy: "admin", reason: "password-set" },
    });
    expectProblem(
      await api.call("POST", "/api/v1/auth/login", { body: { actor: "rad-1", password: reset } }),
      403,
      "PASSWORD_CHANGE_REQUIRED",
    );
  });
});

describe("an action on someone's behalf names both", () => {
  test("a system enters a section for a radiologist: the entry, the report view and FHIR Provenance name both", async () => {
    const ris = await api.call<{ token: string }>("POST", "/api/v1/auth/tokens", {
      token: admin,
      body: { actor: "ris-1" },
    });
    const study = await api.call<{ leafHash: string }>("POST", "/api/v1/entries/study.registered", {
      token: admin,
      body: { body: studyBody(fakePseudonym()) },
    });
    expect(study.status, study.text).toBe(201);
    const rad = await api.token("rad-1");
    const report = await api.call<{ leafHash: string }>("POST", "/api/v1/entries/report.opened", {
      token: rad,
      body: { body: { reportKind: "diagnostic" }, refs: { study: study.body.leafHash } },
    });
    expect(report.status, report.text).toBe(201);
    const section = {
      section: "findings",
      role: "radiologist",
      contentCommitment: fakeHash(),
      origin: "human",
    };
    const refs = { report: report.body.leafHash };
    // Signing as the system without naming the clinician contributes nothing.
    expectProblem(
      await api.call("POST", "/api/v1/entries/report.contribution", {
        token: ris.body.token,
        body: { body: section, refs },
      }),
      403,
      "ROLE_NOT_PERMITTED",
    );
    const c = await api.call<{ leafHash: string; entry: J }>("POST", "/api/v1/entries/report.contribution", {
      token: ris.body.token,
      body: { body: { ...section, onBehalfOf: "rad-1" }, refs },
    });
    expect(c.status, c.text).toBe(201);
    expect(c.body.entry).toMatchObject({ actor: "ris-1", body: { onBehalfOf: "rad-1" } });

    const view = await api.call<{ sections: J[] }>("GET", `/api/v1/reports/${report.body.leafHash}`, {
      token: rad,
    });
    expect(view.status, view.text).toBe(200);
    expect(view.body.sections[0]).toMatchObject({
      id: c.body.leafHash,
      author: "rad-1",
      authorName: "Dr One",
      enteredBy: "ris-1",
      enteredByName: "RIS bridge",
    });

    const fhir = await api.call<{ entry: { resource: J }[] }>(
      "GET",
      `/api/v1/fhir?report=${report.body.leafHash}`,
      { token: admin },
    );
    expect(fhir.status, fhir.text).toBe(200);
    const provenance = fhir.body.entry
      .map((e) => e.resource)
      .find((r) => r.resourceType === "Provenance" && r.id === c.body.leafHash)!;
    const agents = provenance.agent as {
      type: { coding: { code: string }[] };
      who: { identifier: { value: string } };
      onBehalfOf?: { identifier: { value: string } };
    }[];
    expect(
      agents.map((a) => ({
        type: a.type.coding[0]!.code,
        who: a.who.identifier.value,
        onBehalfOf: a.onBehalfOf?.identifier.value,
      })),
    ).toEqual([
      { type: "author", who: "rad-1", onBehalfOf: undefined },
      { type: "enterer", who: "ris-1", onBehalfOf: "rad-1" },
    ]);
  });
});
