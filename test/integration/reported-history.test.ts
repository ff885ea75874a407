/**
 * Issue 21 §2/§3: accesses another hospital system reported (IHE ATNA, access.reported) are in the
 * access history people read — the patient's GET /api/v1/patients/:patient/access and the auditor's
 * GET /api/v1/access — beside the ones this node decided, each saying its origin; filtered by
 * origin and by the existing filters where they mean something for a report; merged in log order,
 * and walking the pages loses and repeats nothing. A patient sees only their own.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { toBase64 } from "../../src/core/bytes.js";
import { formatTime } from "../../src/core/entry.js";
import { AuditIntake, type AuditPeer } from "../../src/app/audit-intake.js";
import { searchHistory } from "../../src/domain/access/history.js";
import { prepareBundle } from "../../src/app/bundle-export.js";
import { verifyBundle, type BundleMember } from "../../src/core/bundle/verify.js";
import { indexSource } from "../../src/domain/access/search.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { makeNode } from "../helpers/node.js";
import { studyBody } from "../helpers/fixtures.js";
import { auditMessageXml, syslogMessage } from "../helpers/audit-messages.js";

type J = Record<string, unknown>;
const STUDY_UID = "1.2.826.0.1.3680043.8.498.91";
let api: TestApi;
let PA = "";
let PB = "";
let study = "";
const tokens: Record<string, string> = {};
/** Every access of the scene: id, log index, patient, origin and what the filters look at. */
interface Known {
  id: string;
  index: number;
  patient: string;
  origin: "decided" | "reported";
  who: string[];
  ok: boolean;
}
const known: Known[] = [];

const tcp: AuditPeer = { transport: "syslog-tcp", address: "10.0.0.7" };
const tls: AuditPeer = { transport: "syslog-tls", address: "10.0.0.8", pin: "unused-here" };

beforeAll(async () => {
  const t = await makeNode();
  PA = t.node.pseudonym("patient", "PAT-0001");
  PB = t.node.pseudonym("patient", "PAT-0002");
  const tech = await t.enrol("tech-1", ["technologist"]);
  await t.enrol("rad-1", ["radiologist"], { displayName: "Dr One" });
  await t.enrol("aud-1", ["auditor"]);
  await t.enrol("pt-a", ["patient"], { patient: PA });
  await t.enrol("pt-b", ["patient"], { patient: PB });
  // Two reporting systems whose keys the node holds: the PACS (plain TCP), the RIS (TLS).
  for (const [id, name] of [
    ["pacs-main", "Main PACS"],
    ["ris-main", "Radiology RIS"],
  ] as const) {
    const held = t.node.heldKeys.put(id, crypto.randomBytes(32));
    await t.node.appender.append(
      t.sign(t.admin, "actor.enrolled", {
        actorId: id,
        kind: "system",
        roles: ["integration"],
        publicKey: toBase64(held.publicKey),
        displayName: name,
      }),
    );
  }
  const registered = await t.node.appender.append(
    t.sign(tech, "study.registered", studyBody(PA, { studyKey: t.node.pseudonym("study", STUDY_UID) })),
  );
  study = registered.leafHash;
  const intake = new AuditIntake(t.node, { rawMessages: "drop" });
  const base = Date.now() - 10 * 60_000;
  // 30 accesses, interleaved: decided reads of PA (the patient's own permits, refusals),
  // reports of PA by the PACS and the RIS (successes and failures), and one report of PB.
  for (let i = 0; i < 30; i++) {
    const ms = base + i * 10_000;
    const time = formatTime(ms);
    if (i % 3 === 0) {
      const own = i % 9 === 0;
      // The patient's own reads are permits (basis patient); the radiologist's are refused.
      const body = {
        actor: own ? "pt-a" : "rad-1",
        patient: PA,
        part: { kind: "record" },
        action: "read",
        purpose: own ? "PATRQT" : "TREAT",
        decision: own ? "permit" : "deny",
        ...(own ? { basis: { kind: "patient" } } : { reason: "no-grant" }),
      };
      const r = await t.node.appender.append(t.sign(t.institution, "access.recorded", body, undefined, ms));
      known.push({
        id: r.leafHash,
        index: r.index,
        patient: PA,
        origin: "decided",
        who: [body.actor],
        ok: body.decision === "permit",
      });
    } else {
      const pacs = i % 3 === 1;
      const user = i % 4 === 1 ? "dr.house" : "nurse.j";
      const ok = i % 5 !== 2;
      const patientId = i === 29 ? "PAT-0002" : "PAT-0001";
      const xml = auditMessageXml({
        patientId,
        studyUid: STUDY_UID,
        userId: user,
        outcome: ok ? "0" : "8",
        time: time.replace("Z", "+00:00"),
      });
      const [rec] = await intake.receive(
        pacs ? "pacs-main" : "ris-main",
        pacs ? tcp : tls,
        xml,
        syslogMessage(xml),
      );
      known.push({
        id: rec!.id,
        index: rec!.index,
        patient: rec!.patient,
        origin: "reported",
        who: [user, "AE_PACS", pacs ? "pacs-main" : "ris-main"],
        ok,
      });
    }
  }
  api = await startApi({}, t);
  for (const a of ["aud-1", "pt-a", "pt-b"]) tokens[a] = await api.token(a);
}, 60_000);

afterAll(async () => api.close());

/** Walks a list page by page (limit 4): every item, and the number of pages. */
async function walk(path: string, token: string): Promise<{ items: J[]; pages: number }> {
  const items: J[] = [];
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
    items.push(...r.body.items);
    next = r.body.next;
    pages++;
  } while (next !== undefined && pages < 100);
  return { items, pages };
}

/** The scene's accesses (not the reads the test itself causes) matching `keep`, newest first. */
const expected = (keep: (k: Known) => boolean): string[] =>
  known
    .filter(keep)
    .sort((a, b) => b.index - a.index)
    .map((k) => k.id);
const ours = (items: J[]): string[] =>
  items.map((i) => i.id as string).filter((id) => known.some((k) => k.id === id));

describe("the patient's access history", () => {
  test("holds the decided and the reported accesses, merged newest first over pages: no loss, no repeat", async () => {
    const want = expected((k) => k.patient === PA);
    expect(want.length).toBe(29);
    const { items, pages } = await walk(`/api/v1/patients/${PA}/access`, tokens["pt-a"]!);
    const ids = items.map((i) => i.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ours(items)).toEqual(want);
    expect(pages).toBeGreaterThan(7);
    // Each item says its origin; the reported ones never PB's.
    for (const i of items) expect(["decided", "reported"]).toContain(i.origin);
    expect(items.some((i) => i.patient === PB)).toBe(false);
    // Oldest first is the same list reversed.
    const oldest = await walk(`/api/v1/patients/${PA}/access?order=oldest`, tokens["pt-a"]!);
    expect(ours(oldest.items)).toEqual([...want].reverse());
  });

  test("a reported item: the system, the transport's authenticity, who (requestor first), when, what, outcome", async () => {
    const r = await api.call<{ items: J[] }>(
      "GET",
      `/api/v1/patients/${PA}/access?origin=reported&limit=1000`,
      {
        token: tokens["pt-a"]!,
      },
    );
    expect(r.status, r.text).toBe(200);
    const tcpItem = r.body.items.find((i) => (i.reportedBy as J).actor === "pacs-main")!;
    expect(tcpItem).toMatchObject({
      origin: "reported",
      patient: PA,
      reportedBy: { actor: "pacs-main", displayName: "Main PACS" },
      transport: "syslog-tcp",
      authenticatedBy: "network-address",
      source: { id: "PACS-MAIN", site: "Radiology" },
      event: { id: { code: "110103", system: "DCM" }, action: "R", purposes: [{ code: "TREAT" }] },
      studies: [{ study }],
    });
    expect((tcpItem.participants as J[])[0]).toMatchObject({ requestor: true });
    expect(typeof tcpItem.recordedAt).toBe("string");
    expect(tcpItem.time as string).not.toBe(tcpItem.recordedAt);
    const tlsItem = r.body.items.find((i) => (i.reportedBy as J).actor === "ris-main")!;
    expect(tlsItem).toMatchObject({ transport: "syslog-tls", authenticatedBy: "certificate" });
    expect(new Set(r.body.items.map((i) => i.outcome))).toEqual(new Set(["success", "serious-failure"]));
  });

  test.each<[string, (k: Known) => boolean]>([
    ["origin=reported", (k) => k.origin === "reported"],
    ["origin=decided", (k) => k.origin === "decided"],
    ["decision=deny", (k) => !k.ok],
    ["decision=permit&origin=reported", (k) => k.ok && k.origin === "reported"],
    ["actor=dr.house", (k) => k.who.includes("dr.house")],
    ["actor=ris-main", (k) => k.who.includes("ris-main")],
    ["part=record", (k) => k.origin === "decided"],
    ["basis=patient", (k) => k.who.includes("pt-a")],
    ["excludeActor=pt-a", (k) => !k.who.includes("pt-a")],
  ])("%s: exactly the matching accesses, over pages", async (q, keep) => {
    const want = expected((k) => k.patient === PA && keep(k));
    expect(want.length).toBeGreaterThan(0);
    const { items } = await walk(`/api/v1/patients/${PA}/access?${q}`, tokens["pt-a"]!);
    expect(ours(items)).toEqual(want);
  });

  test("excludeActor leaves out every one of the patient's own views, those the reading causes too", async () => {
    const { items } = await walk(`/api/v1/patients/${PA}/access?excludeActor=pt-a`, tokens["pt-a"]!);
    expect(items.filter((i) => (i.who as J | undefined)?.actor === "pt-a")).toEqual([]);
  });

  test("a patient sees only their own; another's history is refused", async () => {
    const b = await walk(`/api/v1/patients/${PB}/access`, tokens["pt-b"]!);
    expect(ours(b.items)).toEqual(expected((k) => k.patient === PB));
    const r = await api.call("GET", `/api/v1/patients/${PB}/access?origin=reported`, {
      token: tokens["pt-a"]!,
    });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("FORBIDDEN_NOT_OWN_RECORD");
  });

  test("hostile origin and excludeActor values are coded 400s", async () => {
    for (const q of ["origin=both", "origin=", "excludeActor=%00", `excludeActor=${"a".repeat(300)}`]) {
      const r = await api.call("GET", `/api/v1/patients/${PA}/access?${q}`, { token: tokens["pt-a"]! });
      expect(r.status, q).toBe(400);
      expect(r.body.code).toBe("INPUT_INVALID");
    }
  });
});

describe("the auditor's access search", () => {
  test("over every access, by patient, by participant or system, by origin", async () => {
    const walkIds = async (q: string) => ours((await walk(`/api/v1/access${q}`, tokens["aud-1"]!)).items);
    expect(await walkIds("")).toEqual(expected(() => true));
    expect(await walkIds(`?patient=${PB}`)).toEqual(expected((k) => k.patient === PB));
    expect(await walkIds("?origin=reported")).toEqual(expected((k) => k.origin === "reported"));
    expect(await walkIds("?actor=nurse.j")).toEqual(expected((k) => k.who.includes("nurse.j")));
    expect(await walkIds("?actor=rad-1&decision=deny")).toEqual(
      expected((k) => k.who.includes("rad-1") && !k.ok),
    );
    expect(await walkIds("?actor=pacs-main&decision=deny")).toEqual(
      expected((k) => k.who.includes("pacs-main") && !k.ok),
    );
  });

  test("a page examines a bounded number of rows of both lists: short pages carry `next`, nothing lost", () => {
    const state = api.t.node.store;
    const sources = {
      decided: indexSource(state, "access.patient", PA),
      reported: indexSource(state, "access.reported.patient", PA),
    };
    const ids: string[] = [];
    let after: number | undefined;
    let pages = 0;
    for (;;) {
      const page = searchHistory(
        state,
        sources,
        { actor: "dr.house" },
        { limit: 100, scan: 4, ...(after === undefined ? {} : { after }) },
      );
      ids.push(...page.items.map((a) => a.id));
      pages++;
      if (page.next === undefined) break;
      expect(page.items.length).toBeLessThan(100);
      after = page.next;
    }
    expect(ids).toEqual(expected((k) => k.patient === PA && k.who.includes("dr.house")));
    const rows =
      state.lookup("access.patient", PA).length + state.lookup("access.reported.patient", PA).length;
    expect(pages).toBe(Math.floor(rows / 4) + 1);
  });
});

describe("the patient's access-history bundle", () => {
  test("holds the reported accesses with their signers, and verifies offline", async () => {
    const { members } = prepareBundle(api.t.node, { kind: "access", id: PA });
    const all: BundleMember[] = [];
    for await (const m of members) all.push(m);
    const report = await verifyBundle(all, { crypto: api.t.node.crypto, logKeys: [api.t.node.verifierKey] });
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    const reported = known.filter((k) => k.patient === PA && k.origin === "reported").length;
    expect(report.byType["access.reported"]).toBe(reported);
    expect(report.record).toMatchObject({ reported });
    expect(report.findings.join("\n")).toContain(`${reported} accesses reported by 2 other systems`);
    // The reporting systems' keys are proven by their enrolment entries, in the bundle too.
    expect(report.signers.filter((k) => k.actor === "pacs-main" || k.actor === "ris-main")).toHaveLength(2);
    // PB's report is not in PA's bundle.
    expect(report.byType["access.reported"]).toBeLessThan(
      known.filter((k) => k.origin === "reported").length,
    );
  });
});
