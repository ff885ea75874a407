/**
 * An unknown or mistyped patient pseudonym is an error ("no such patient", PATIENT_UNKNOWN, 404),
 * never an empty list that an auditor would read as "nobody looked" (issue 20, auditor). A known
 * patient with nothing recorded still gets its empty list, and a patient asking about another
 * pseudonym — known or not — still gets the 403 that tells them nothing about it.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { fakePseudonym } from "../helpers/fixtures.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { isKnownPatient } from "../../src/domain/patients.js";
import { makeNode } from "../helpers/node.js";
import { ConsortiumService } from "../../src/app/consortium/service.js";
import { consortiumPorts } from "../../src/wiring/consortium.js";

let api: TestApi;
let svc: ConsortiumService;
const known = fakePseudonym();
const typo = fakePseudonym();
const tokens: Record<string, string> = {};

const PATHS = ["access", "grants", "care", "studies", "reports"] as const;

beforeAll(async () => {
  // A node with its consortium side (no peers), so the consortium routes are served too.
  const t = await makeNode();
  svc = await ConsortiumService.open(t.node, consortiumPorts, { background: false });
  api = await startApi({ consortium: svc }, t);
  await api.t.enrol("aud-1", ["auditor"]);
  await api.t.enrol("pt-1", ["patient"], { kind: "patient", patient: known });
  tokens.auditor = await api.token("aud-1");
  tokens.admin = await api.token("admin");
  tokens.patient = await api.token("pt-1");
}, 60_000);

afterAll(async () => {
  await api.close();
  await svc.close();
});

test("an auditor asking about an unknown pseudonym gets 404 PATIENT_UNKNOWN on every patient list", async () => {
  for (const path of PATHS) {
    const r = await api.call("GET", `/api/v1/patients/${typo}/${path}`, { token: tokens.admin! });
    expect(r.status, `${path}: ${r.text}`).toBe(404);
    expect(r.body.code).toBe("PATIENT_UNKNOWN");
    expect(String(r.body.detail)).not.toContain(typo); // the message names no pseudonym
  }
  const a = await api.call("GET", `/api/v1/patients/${typo}/access`, { token: tokens.auditor! });
  expect(a.status).toBe(404);
  expect(a.body.code).toBe("PATIENT_UNKNOWN");
  const c = await api.call("GET", `/api/v1/consortium/patients/${typo}/access`, { token: tokens.auditor! });
  expect(c.status, c.text).toBe(404);
  expect(c.body.code).toBe("PATIENT_UNKNOWN");
});

test("a known patient with nothing recorded answers an empty list, not 404", async () => {
  const r = await api.call<{ items: unknown[] }>("GET", `/api/v1/patients/${known}/access`, {
    token: tokens.auditor!,
  });
  expect(r.status, r.text).toBe(200);
  expect(r.body.items).toEqual([]);
  const own = await api.call("GET", `/api/v1/patients/${known}/grants`, { token: tokens.patient! });
  expect(own.status, own.text).toBe(200);
});

test("a patient asking about another pseudonym gets the same 403 whether or not it exists", async () => {
  const other = fakePseudonym();
  await api.t.enrol("pt-2", ["patient"], { kind: "patient", patient: other });
  const unknownOne = fakePseudonym();
  for (const p of [other, unknownOne]) {
    const r = await api.call("GET", `/api/v1/patients/${p}/access`, { token: tokens.patient! });
    expect(r.status, r.text).toBe(403);
    expect(r.body.code).toBe("FORBIDDEN_NOT_OWN_RECORD");
  }
  // The refused attempt is on the log (as before), so the pseudonym it named is known from then on.
  expect(isKnownPatient(api.t.node.store, unknownOne)).toBe(true);
});
