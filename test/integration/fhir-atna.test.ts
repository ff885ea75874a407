/**
 * IHE RESTful ATNA over FHIR (docs/audit.md "FHIR feed (ITI-20) and query (ITI-81)"), driven by a
 * small client written against the profile (https://profiles.ihe.net/ITI/RESTful-ATNA) with plain
 * fetch: Record Audit Event [ITI-20] as one AuditEvent and as batch/transaction Bundles, by an
 * enrolled system actor with the integration role only; Retrieve ATNA Audit Event [ITI-81] as a
 * searchset Bundle of the node's decisions and the reported accesses, filtered and paged, recorded
 * (110101) before it is answered; a patient asking for another patient's trail is a recorded deny.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { AuditEvent, Bundle, BundleEntry, OperationOutcome } from "fhir/r4.js";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { fromUtf8, toBase64 } from "../../src/core/bytes.js";
import { seedDemo } from "../../src/app/demo/index.js";
import { nodeFactory } from "../../src/wiring/node.js";
import { startApi, type TestApi } from "../helpers/api.js";

const STUDY_UID = "1.2.826.0.1.3680043.8.498.4242";
let api: TestApi;
let pacs: string;
let auditor: string;
let own: string;
let other: string;

/** An ITI-20 AuditEvent as RESTful ATNA §3.20.4.2 sends it (BALP PatientRead-like). */
function event(
  o: { mrn?: string; outcome?: string; recorded?: string; user?: string; study?: boolean } = {},
): AuditEvent {
  return {
    resourceType: "AuditEvent",
    type: {
      system: "http://dicom.nema.org/resources/ontology/DCM",
      code: "110110",
      display: "Patient Record",
    },
    subtype: [
      { system: "urn:ihe:event-type-code", code: "RAD-69", display: "Retrieve Imaging Document Set" },
    ],
    action: "R",
    recorded: o.recorded ?? "2026-03-01T10:00:00.123+01:00",
    outcome: (o.outcome ?? "0") as "0",
    purposeOfEvent: [
      { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "TREAT" }] },
    ],
    agent: [
      {
        type: { coding: [{ system: "http://dicom.nema.org/resources/ontology/DCM", code: "110153" }] },
        who: { identifier: { value: o.user ?? "dr.jones" } },
        name: "Dr Jones",
        requestor: true,
        network: { address: "10.1.2.3", type: "2" },
      },
    ],
    source: { site: "Radiology", observer: { identifier: { value: "PACS_MAIN" } } },
    entity: [
      {
        what: { identifier: { system: "urn:oid:1.2.3.4", value: o.mrn ?? "DEMO-MRN-0001" } },
        type: { system: "http://terminology.hl7.org/CodeSystem/audit-entity-type", code: "1" },
        role: { system: "http://terminology.hl7.org/CodeSystem/object-role", code: "1" },
        name: "DOE^JANE",
      },
      ...(o.study === false
        ? []
        : [
            {
              what: { identifier: { system: "urn:dicom:uid", value: `urn:oid:${STUDY_UID}` } },
              type: { system: "http://terminology.hl7.org/CodeSystem/audit-entity-type", code: "2" },
              role: { system: "http://terminology.hl7.org/CodeSystem/object-role", code: "3" },
            },
          ]),
    ],
  };
}

const feed = (body: unknown, token = pacs) =>
  api.call<OperationOutcome & { code?: string }>("POST", "/api/v1/fhir/AuditEvent", {
    token,
    raw: JSON.stringify(body),
    contentType: "application/fhir+json",
  });
const bundle = (type: string, events: unknown[]) =>
  api.call<Bundle & { code?: string }>("POST", "/api/v1/fhir", {
    token: pacs,
    raw: JSON.stringify({
      resourceType: "Bundle",
      type,
      entry: events.map((resource) => ({ resource, request: { method: "POST", url: "AuditEvent" } })),
    }),
    contentType: "application/fhir+json",
  });
const search = (query: string, token = auditor) =>
  api.call<Bundle & { code?: string }>("GET", `/api/v1/fhir/AuditEvent?${query}`, { token });
const entryAt = (location: string): { type: string; actor: string; body: Record<string, unknown> } => {
  const id = location.split("/").at(-1)!;
  return JSON.parse(fromUtf8(api.t.node.store.entryByLeafHash(id)!.bytes)) as never;
};
const lastOfType = (type: string): { actor: string; body: Record<string, unknown> } | undefined => {
  for (let i = api.t.node.ledger.size - 1; i >= 0; i--) {
    const e = JSON.parse(fromUtf8(api.t.node.store.readEntry(i)!.bytes)) as {
      type: string;
      actor: string;
      body: Record<string, unknown>;
    };
    if (e.type === type) return e;
  }
  return undefined;
};

beforeAll(async () => {
  api = await startApi();
  const t = api.t;
  await seedDemo(t.node, nodeFactory);
  // The PACS: a system actor with the integration role whose key the node holds (as for syslog).
  const held = t.node.heldKeys.put("pacs-main", crypto.randomBytes(32));
  await t.node.appender.append(
    t.sign(t.admin, "actor.enrolled", {
      actorId: "pacs-main",
      kind: "system",
      roles: ["integration"],
      publicKey: toBase64(held.publicKey),
      displayName: "Main PACS",
    }),
  );
  pacs = await api.token("pacs-main");
  auditor = await api.token("auditor-1");
  own = t.node.pseudonym("patient", "DEMO-MRN-0001");
  other = t.node.pseudonym("patient", "DEMO-MRN-0002");
}, 60_000);
afterAll(async () => {
  await api.close();
});

test("ITI-20: one AuditEvent is 201 with the Location of an access.reported entry signed by the PACS, pseudonyms only", async () => {
  const res = await feed(event());
  expect(res.status).toBe(201);
  const location = res.headers.get("location")!;
  expect(location).toMatch(/^\/api\/v1\/log\/entries\/[0-9a-f]{64}$/);
  expect(res.body.resourceType).toBe("OperationOutcome");
  const entry = entryAt(location);
  expect(entry).toMatchObject({ type: "access.reported", actor: "pacs-main" });
  expect(entry.body).toMatchObject({
    patient: own,
    studies: [api.t.node.pseudonym("study", STUDY_UID)],
    event: {
      id: { code: "110110" },
      types: [{ code: "RAD-69" }],
      action: "R",
      outcome: 0,
      time: "2026-03-01T09:00:00.123Z",
      purposes: [{ code: "TREAT" }],
    },
    participants: [
      { userId: "dr.jones", requestor: true, networkAccessPoint: { id: "10.1.2.3", type: "2" } },
    ],
    source: { id: "PACS_MAIN", site: "Radiology" },
    transport: "fhir-iti20",
  });
  const text = JSON.stringify(entry);
  expect(text).not.toContain("DEMO-MRN-0001");
  expect(text).not.toContain("DOE^JANE");
  const metrics = await api.call("GET", "/metrics");
  expect(metrics.text).toMatch(
    /radledger_audit_messages_total\{[^}]*transport="fhir-iti20"[^}]*outcome="recorded"/,
  );
});

test("ITI-20: the patient's access history shows a fed event as authenticated by the sender's credential, not by address", async () => {
  const res = await feed(event());
  expect(res.status).toBe(201);
  const id = res.headers.get("location")!.split("/").pop()!;
  const history = await api.call<{ items: { id: string; transport: string; authenticatedBy: string }[] }>(
    "GET",
    `/api/v1/patients/${own}/access?origin=reported&limit=1000`,
    { token: auditor },
  );
  expect(history.status).toBe(200);
  expect(history.body.items.find((i) => i.id === id)).toMatchObject({
    transport: "fhir-iti20",
    authenticatedBy: "credential",
  });
});

test("ITI-20: a batch with bad events among good ones answers one entry.response per event", async () => {
  const before = api.t.node.ledger.size;
  const res = await bundle("batch", [
    event(),
    event({ mrn: "NOBODY-HERE" }),
    { resourceType: "Patient" },
    event({ mrn: "DEMO-MRN-0002", study: false }),
  ]);
  expect(res.status).toBe(200);
  expect(res.body.type).toBe("batch-response");
  const responses = res.body.entry!.map((e: BundleEntry) => e.response!);
  expect(responses.map((r) => r.status)).toEqual(["201 Created", "422", "400", "201 Created"]);
  const codes = responses.map(
    (r) => (r.outcome as OperationOutcome | undefined)?.issue[0]?.details?.coding?.[0]?.code,
  );
  expect(codes).toEqual([undefined, "AUDIT_MESSAGE_UNKNOWN_PATIENT", "AUDIT_MESSAGE_MALFORMED", undefined]);
  expect(api.t.node.ledger.size).toBe(before + 2);
  expect(entryAt(responses[3]!.location!).body.patient).toBe(other);
});

test("ITI-20: a transaction with one bad event records nothing", async () => {
  const before = api.t.node.ledger.size;
  const res = await bundle("transaction", [event(), event({ mrn: "NOBODY-HERE" })]);
  expect(res.status).toBe(422);
  expect(res.body.code).toBe("AUDIT_MESSAGE_UNKNOWN_PATIENT");
  expect(api.t.node.ledger.size).toBe(before);
  const ok = await bundle("transaction", [event(), event({ outcome: "4" })]);
  expect(ok.status).toBe(200);
  expect(ok.body.type).toBe("transaction-response");
  expect(ok.body.entry!.map((e) => e.response!.status)).toEqual(["201 Created", "201 Created"]);
});

test("ITI-20: only a system actor with the integration role may feed; an unknown patient is refused", async () => {
  const staff = await feed(event(), await api.token("rad-neuro-1"));
  expect(staff.status).toBe(403);
  expect(staff.body.code).toBe("AUDIT_FEED_FORBIDDEN");
  const aiSystem = await feed(event(), await api.token("ai-engine-1"));
  expect(aiSystem.status).toBe(403);
  expect(aiSystem.body.code).toBe("AUDIT_FEED_FORBIDDEN");
  const anonymous = await api.call("POST", "/api/v1/fhir/AuditEvent", { raw: JSON.stringify(event()) });
  expect(anonymous.status).toBe(401);
  // Refused before the body is read: garbage from a caller who may not feed is 401/403, not 400.
  const garbage = await api.call<{ code: string }>("POST", "/api/v1/fhir", {
    token: await api.token("rad-neuro-1"),
    raw: "{not json",
    contentType: "application/fhir+json",
  });
  expect(garbage.status).toBe(403);
  expect(garbage.body.code).toBe("AUDIT_FEED_FORBIDDEN");
  expect((await api.call("POST", "/api/v1/fhir", { raw: "{not json" })).status).toBe(401);
  const unknown = await feed(event({ mrn: "NOBODY-HERE" }));
  expect(unknown.status).toBe(422);
  expect(unknown.body.code).toBe("AUDIT_MESSAGE_UNKNOWN_PATIENT");
});

test("ITI-20: hostile bodies are coded 4xx, never a 500", async () => {
  const send = (raw: string | Uint8Array, path = "/api/v1/fhir/AuditEvent") =>
    api.call<{ code: string }>("POST", path, { token: pacs, raw, contentType: "application/fhir+json" });
  const cases: [string | Uint8Array, number, string, string?][] = [
    ["{not json", 400, "AUDIT_MESSAGE_MALFORMED"],
    [JSON.stringify({ ...event(), resourceType: "Observation" }), 400, "AUDIT_MESSAGE_MALFORMED"],
    [JSON.stringify({ ...event(), agent: "nobody" }), 400, "AUDIT_MESSAGE_MALFORMED"],
    [JSON.stringify({ ...event(), recorded: "yesterday" }), 400, "AUDIT_MESSAGE_MALFORMED"],
    [JSON.stringify({ ...event(), outcome: 0 }), 400, "AUDIT_MESSAGE_MALFORMED"],
    [JSON.stringify({ ...event(), padding: "x".repeat(70_000) }), 413, "BODY_TOO_LARGE"],
    [`${"[".repeat(5000)}${"]".repeat(5000)}`, 400, "AUDIT_MESSAGE_MALFORMED"],
    [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 400, "ENCODING_INVALID"],
    ["null", 400, "AUDIT_MESSAGE_MALFORMED"],
    [
      JSON.stringify({ resourceType: "Bundle", type: "history", entry: [] }),
      400,
      "AUDIT_MESSAGE_MALFORMED",
      "/api/v1/fhir",
    ],
    [
      JSON.stringify({
        resourceType: "Bundle",
        type: "batch",
        entry: Array.from({ length: 101 }, () => ({ resource: {} })),
      }),
      413,
      "AUDIT_MESSAGE_TOO_LARGE",
      "/api/v1/fhir",
    ],
    [
      `{"resourceType":"Bundle","type":"batch","entry":[],"pad":"${"x".repeat(1_100_000)}"}`,
      413,
      "BODY_TOO_LARGE",
      "/api/v1/fhir",
    ],
  ];
  for (const [raw, status, code, path] of cases) {
    const res = await send(raw, path);
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  }
});

test("ITI-81: one searchset of the node's decisions and the reported accesses; each filter narrows it", async () => {
  // A reported access naming no study: entity-type=2 (system object) does not match it.
  expect((await feed(event({ study: false, recorded: "2025-12-31T23:00:00Z" }))).status).toBe(201);
  const all = await search(`patient=${own}&_count=500`);
  expect(all.status).toBe(200);
  expect(all.type).toContain("application/fhir+json");
  expect(all.body).toMatchObject({ resourceType: "Bundle", type: "searchset" });
  const events = all.body.entry!.map((e) => e.resource as AuditEvent);
  const reported = events.filter((e) => e.source.observer.identifier?.value === "pacs-main");
  const decisions = events.filter((e) => e.source.observer.display === "radledger gatekeeper");
  expect(reported.length).toBeGreaterThanOrEqual(4);
  expect(decisions.length).toBeGreaterThan(0);
  expect(reported[0]!.entity).toHaveLength(1);
  expect(reported[1]).toMatchObject({
    type: { code: "110110" },
    entity: [
      { what: { identifier: { value: own } } },
      { what: { identifier: { value: api.t.node.pseudonym("study", STUDY_UID) } } },
    ],
  });
  // Newest first (the order the node recorded them).
  const ids = events.map((e) => e.id!);
  expect(new Set(ids).size).toBe(ids.length);

  const narrower = async (query: string, check: (e: AuditEvent) => boolean) => {
    const res = await search(`patient=${own}&_count=500&${query}`);
    expect(res.status).toBe(200);
    const got = res.body.entry?.map((e) => e.resource as AuditEvent) ?? [];
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(events.length);
    expect(got.every(check)).toBe(true);
  };
  await narrower("agent=pacs-main", (e) => e.source.observer.identifier?.value === "pacs-main");
  await narrower("outcome=4", (e) => e.outcome === "4");
  await narrower("entity-type=2", (e) => (e.entity ?? []).some((x) => x.type?.code === "2"));
  await narrower("date=ge2026-03-01&date=le2026-03-01T23:59:59Z", (e) => e.recorded.startsWith("2026-03-01"));
  const none = await search(`patient=${own}&date=lt1990-01-01`);
  expect(none.body.entry ?? []).toEqual([]);
  // Without a patient: every record, still narrowed by agent.
  const byAgent = await search("agent=pacs-main&_count=500");
  expect(byAgent.body.entry!.length).toBe(reported.length + 1); // + the other patient's report
});

test("ITI-81: strict parameters, unknown patient, staff refused", async () => {
  for (const q of [
    "foo=1",
    "address=10.0.0.1",
    "patient=DEMO-MRN-0001",
    "outcome=2",
    "date=2026",
    "_count=x",
    "_cursor=zzz",
  ]) {
    const res = await search(q);
    expect({ q, status: res.status, code: res.body.code }).toEqual({ q, status: 400, code: "INPUT_INVALID" });
  }
  const unknown = await search(`patient=pt_${"A".repeat(43)}`);
  expect(unknown.status).toBe(404);
  expect(unknown.body.code).toBe("PATIENT_UNKNOWN");
  const staff = await search(`patient=${own}`, await api.token("rad-neuro-1"));
  expect(staff.status).toBe(403);
  expect(staff.body.code).toBe("ACCESS_DENIED");
});

test("ITI-81: paging through more than _count results loses and repeats nothing", async () => {
  const more = await bundle(
    "batch",
    Array.from({ length: 12 }, (_, i) => event({ user: `tech.${i}` })),
  );
  expect(more.body.entry!.every((e) => e.response!.status === "201 Created")).toBe(true);
  const whole = (await search(`patient=${own}&_count=500`)).body.entry!.map((e) => e.resource!.id!);
  const paged: string[] = [];
  let url: string | undefined = `/api/v1/fhir/AuditEvent?patient=${own}&_count=5`;
  let pages = 0;
  while (url !== undefined) {
    const res: { status: number; body: Bundle } = await api.call<Bundle>("GET", url, { token: auditor });
    expect(res.status).toBe(200);
    paged.push(...(res.body.entry ?? []).map((e) => e.resource!.id!));
    const next = res.body.link?.find((l) => l.relation === "next")?.url;
    url = next === undefined ? undefined : new URL(next).pathname + new URL(next).search;
    pages++;
  }
  expect(pages).toBeGreaterThan(3);
  expect(paged).toEqual(whole);
});

test("ITI-81: every query is on the log as 110101 Audit Log Used before it is answered", async () => {
  const res = await search(`patient=${own}&outcome=0`);
  expect(res.status).toBe(200);
  expect(lastOfType("audit.recorded")).toMatchObject({
    body: {
      event: "audit-log-used",
      outcome: "success",
      actor: "auditor-1",
      role: "auditor",
      query: "GET /api/v1/fhir/AuditEvent",
      patient: own,
    },
  });
});

test("ITI-81: a patient searches their own trail; another patient's is a recorded deny", async () => {
  const token = await api.token("patient-0001");
  const mine = await search(`patient=${own}`, token);
  expect(mine.status).toBe(200);
  const theirs = await search(`patient=${other}`, token);
  expect(theirs.status).toBe(403);
  expect(theirs.body).toMatchObject({ code: "FORBIDDEN_NOT_OWN_RECORD", reason: "not-own-record" });
  expect(lastOfType("access.recorded")).toMatchObject({
    body: { actor: "patient-0001", patient: other, decision: "deny", reason: "not-own-record" },
  });
  const everyone = await search("outcome=0", token);
  expect(everyone.status).toBe(403);
});
