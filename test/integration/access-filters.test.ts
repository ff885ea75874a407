/**
 * Issue 20: the patient's "who looked at my record" filters and the auditor's access search. A
 * patient's history, an actor's accesses and GET /api/v1/access filter by time range, accessing
 * actor, part kind, purpose, decision and basis; every filtered list, walked page by page, is
 * exactly the matching records newest first (or oldest first), and hostile parameters are coded 400s.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { formatTime } from "../../src/core/entry.js";
import type { AccessDoc } from "../../src/domain/access/state.js";
import { indexSource, searchAccesses } from "../../src/domain/access/search.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { makeNode } from "../helpers/node.js";
import { fakePseudonym, studyBody } from "../helpers/fixtures.js";

type J = Record<string, unknown>;
const PA = fakePseudonym();
const PB = fakePseudonym();
let api: TestApi;
const tokens: Record<string, string> = {};
const times: string[] = [];
let study = "";

beforeAll(async () => {
  const t = await makeNode();
  const tech = await t.enrol("tech-1", ["technologist"]);
  await t.enrol("rad-1", ["radiologist"]);
  await t.enrol("rad-2", ["radiologist"]);
  await t.enrol("aud-1", ["auditor"]);
  await t.enrol("pt-a", ["patient"], { patient: PA });
  await t.enrol("pt-b", ["patient"], { patient: PB });
  const registered = await t.node.appender.append(t.sign(tech, "study.registered", studyBody(PA)));
  study = registered.leafHash;
  // 36 access records signed by the institution, one every 10 s over the last 6 minutes: the
  // patient's own reads (permits, basis patient) and two radiologists' refused reads of parts.
  const base = Date.now() - 6 * 60_000;
  for (let i = 0; i < 36; i++) {
    const time = base + i * 10_000;
    times.push(formatTime(time));
    const own = i % 3 === 0;
    const patient = i % 6 === 5 ? PB : PA;
    const body = own
      ? {
          actor: patient === PA ? "pt-a" : "pt-b",
          patient,
          part: { kind: "record" },
          action: "read",
          purpose: "PATRQT",
          decision: "permit",
          basis: { kind: "patient" },
        }
      : {
          actor: i % 3 === 1 ? "rad-1" : "rad-2",
          patient,
          part: i % 4 === 1 && patient === PA ? { kind: "study", id: study } : { kind: "record" },
          action: "read",
          purpose: i % 2 === 0 ? "TREAT" : "HPAYMT",
          decision: "deny",
          reason: "no-grant",
        };
    await t.node.appender.append(t.sign(t.institution, "access.recorded", body, undefined, time));
  }
  api = await startApi({}, t);
  for (const a of ["aud-1", "rad-1", "pt-a", "pt-b"]) tokens[a] = await api.token(a);
}, 60_000);

afterAll(async () => api.close());

/** Every access document of the log, newest first. */
function allAccesses(): AccessDoc[] {
  const out: AccessDoc[] = [];
  for (const p of [PA, PB])
    for (const row of api.t.node.store.lookup("access.patient", p))
      out.push(api.t.node.store.getDoc("access", row.value) as unknown as AccessDoc);
  return out.sort((a, b) => b.index - a.index);
}

/** Walks a list page by page (limit 4); the ids in order, and the number of pages. */
async function walk(path: string, token: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let next: string | undefined;
  let pages = 0;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const r = await api.call<{ items: J[]; next?: string }>(
      "GET",
      `${path}${sep}limit=4${next === undefined ? "" : `&after=${next}`}`,
      { token },
    );
    expect(r.status, r.text).toBe(200);
    ids.push(...r.body.items.map((a) => a.id as string));
    next = r.body.next;
    pages++;
  } while (next !== undefined && pages < 100);
  return { ids, pages };
}

describe("a patient's access history, filtered", () => {
  const cases: [string, string, (a: AccessDoc) => boolean][] = [
    ["decision=deny", "decision=deny", (a) => a.decision === "deny"],
    ["decision=permit", "decision=permit", (a) => a.decision === "permit"],
    ["actor=rad-1", "actor=rad-1", (a) => a.actor === "rad-1"],
    ["part=study", "part=study", (a) => a.part.kind === "study"],
    ["purpose=HPAYMT", "purpose=HPAYMT", (a) => a.purpose === "HPAYMT"],
    ["basis=patient", "basis=patient", (a) => a.basis?.kind === "patient"],
    ["time range", "", () => true],
    [
      "everything at once",
      "actor=rad-2&decision=deny&purpose=TREAT&part=record",
      (a) =>
        a.actor === "rad-2" && a.decision === "deny" && a.purpose === "TREAT" && a.part.kind === "record",
    ],
  ];

  test.each(cases)("%s: exactly the matching records, newest first, over pages", async (name, q, keep) => {
    let query = q;
    let inRange = (_a: AccessDoc): boolean => true;
    if (name === "time range") {
      const from = times[10]!;
      const to = times[20]!;
      query = `from=${from}&to=${to}`;
      inRange = (a) => a.time >= from && a.time < to;
    }
    const expected = allAccesses()
      .filter((a) => a.patient === PA && keep(a) && inRange(a))
      .map((a) => a.id);
    expect(expected.length).toBeGreaterThan(0);
    const got = await walk(`/api/v1/patients/${PA}/access?${query}`, tokens["aud-1"]!);
    expect(got.ids).toEqual(expected);
    // The patient's own filters read the same list.
    expect((await walk(`/api/v1/patients/${PA}/access?${query}`, tokens["pt-a"]!)).ids).toEqual(expected);
    // Oldest first is the same list reversed.
    expect((await walk(`/api/v1/patients/${PA}/access?${query}&order=oldest`, tokens["aud-1"]!)).ids).toEqual(
      [...expected].reverse(),
    );
  });

  test("another patient's history stays refused with filters too (and the attempt is recorded)", async () => {
    const before = api.t.node.store.lookup("access.patient", PA).length;
    const r = await api.call("GET", `/api/v1/patients/${PA}/access?decision=deny`, {
      token: tokens["pt-b"]!,
    });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("FORBIDDEN_NOT_OWN_RECORD");
    expect(api.t.node.store.lookup("access.patient", PA).length).toBe(before + 1);
  });
});

describe("the auditor's access search: GET /api/v1/access", () => {
  test("over every record, by patient, by actor, and by both", async () => {
    const all = allAccesses();
    const ids = (keep: (a: AccessDoc) => boolean) => all.filter(keep).map((a) => a.id);
    expect((await walk("/api/v1/access", tokens["aud-1"]!)).ids).toEqual(ids(() => true));
    expect((await walk("/api/v1/access?decision=deny", tokens["aud-1"]!)).ids).toEqual(
      ids((a) => a.decision === "deny"),
    );
    expect((await walk(`/api/v1/access?patient=${PB}`, tokens["aud-1"]!)).ids).toEqual(
      ids((a) => a.patient === PB),
    );
    expect((await walk("/api/v1/access?actor=rad-2", tokens["aud-1"]!)).ids).toEqual(
      ids((a) => a.actor === "rad-2"),
    );
    expect((await walk(`/api/v1/access?actor=rad-2&patient=${PB}`, tokens["aud-1"]!)).ids).toEqual(
      ids((a) => a.actor === "rad-2" && a.patient === PB),
    );
    const from = times[30]!;
    expect((await walk(`/api/v1/access?from=${from}&purpose=PATRQT`, tokens["aud-1"]!)).ids).toEqual(
      ids((a) => a.time >= from && a.purpose === "PATRQT"),
    );
  });

  test("an actor's own accesses, filtered; admins and auditors for anyone's", async () => {
    const expected = allAccesses()
      .filter((a) => a.actor === "rad-1" && a.part.kind === "study")
      .map((a) => a.id);
    expect(expected.length).toBeGreaterThan(0);
    expect((await walk("/api/v1/actors/rad-1/access?part=study", tokens["rad-1"]!)).ids).toEqual(expected);
    expect((await walk("/api/v1/actors/rad-1/access?part=study", tokens["aud-1"]!)).ids).toEqual(expected);
  });

  test("only admins and auditors search", async () => {
    const r = await api.call("GET", "/api/v1/access?decision=deny", { token: tokens["rad-1"]! });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("FORBIDDEN_ROLE");
    expect((await api.call("GET", "/api/v1/access")).status).toBe(401);
  });

  test("a page examines a bounded number of records: short pages carry `next` until the end", () => {
    const state = api.t.node.store;
    const source = indexSource(state, "access.patient", PA);
    const expected = allAccesses()
      .filter((a) => a.patient === PA && a.actor === "rad-1")
      .map((a) => a.id);
    const ids: string[] = [];
    let after: number | undefined;
    let pages = 0;
    let short = 0;
    for (;;) {
      const page = searchAccesses(
        state,
        source,
        { actor: "rad-1" },
        { limit: 100, scan: 5, ...(after === undefined ? {} : { after }) },
      );
      ids.push(...page.items.map((a) => a.id));
      pages++;
      if (page.next === undefined) break;
      expect(page.items.length).toBeLessThan(100);
      short++;
      after = page.next;
    }
    expect(ids).toEqual(expected);
    expect(short).toBeGreaterThan(3);
    // Five rows a page; the page that finds fewer rows than it asked for is the last.
    expect(pages).toBe(Math.floor(state.lookup("access.patient", PA).length / 5) + 1);
  });
});

describe("hostile filter parameters are coded 400s", () => {
  test.each([
    "from=yesterday",
    "from=2026-01-01",
    "to=2026-13-01T00:00:00.000Z",
    `from=${encodeURIComponent("2026-01-02T00:00:00.000Z")}&to=${encodeURIComponent("2026-01-01T00:00:00.000Z")}`,
    `from=${encodeURIComponent("2026-01-01T00:00:00.000Z")}&to=${encodeURIComponent("2026-01-01T00:00:00.000Z")}`,
    "part=kidney",
    "purpose=FUN",
    "decision=maybe",
    "basis=vibes",
    "actor=%00",
    `actor=${"a".repeat(300)}`,
    "decision=deny&decision=permit",
    "limit=0",
    "after=abc",
    "who=rad-1",
  ])("%s", async (q) => {
    for (const path of [`/api/v1/patients/${PA}/access`, "/api/v1/access"]) {
      const r = await api.call("GET", `${path}?${q}`, { token: tokens["aud-1"]! });
      expect(r.status, `${path}?${q}: ${r.text}`).toBe(400);
      expect(r.body.code).toBe("INPUT_INVALID");
    }
  });

  test("the actor route takes its actor from the path; a bad patient is refused", async () => {
    for (const q of ["actor=rad-2", "patient=pt_short"]) {
      const r = await api.call("GET", `/api/v1/actors/rad-1/access?${q}`, { token: tokens["aud-1"]! });
      expect(r.status, r.text).toBe(400);
      expect(r.body.code).toBe("INPUT_INVALID");
    }
    const r = await api.call("GET", "/api/v1/access?patient=pt_short", { token: tokens["aud-1"]! });
    expect(r.status).toBe(400);
  });
});
