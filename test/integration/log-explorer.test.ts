/**
 * Issue 20, item 7: the log explorer's public reads — the checkpoint history with cosignatures and
 * anchoring, recent entries with counts by type, and one entry's inclusion proof — answer anyone,
 * carry no personal data (no actor, references or body; times to the minute), and refuse hostile
 * query parameters with coded 400s (docs/privacy.md §The log explorer).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { fromBase64, fromHex, toBase64 } from "../../src/core/bytes.js";
import { verifyInclusion } from "../../src/core/merkle/verify.js";
import { ConsortiumService } from "../../src/app/consortium/service.js";
import { consortiumPorts } from "../../src/wiring/consortium.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { makeNode } from "../helpers/node.js";
import { studyBody } from "../helpers/fixtures.js";

type J = Record<string, unknown>;
const PATIENT = `pt_${"Q".repeat(43)}`;
const STUDY_KEY = `st_${"S".repeat(43)}`;
let api: TestApi;
let svc: ConsortiumService;

const get = async (path: string) => {
  const res = await fetch(`${api.url}${path}`);
  return { status: res.status, text: await res.text(), headers: res.headers };
};
const json = async <T = J>(path: string): Promise<T> => {
  const r = await get(path);
  expect(r.status, `${path}: ${r.text}`).toBe(200);
  return JSON.parse(r.text) as T;
};

beforeAll(async () => {
  const t = await makeNode();
  const tech = await t.enrol("tech-1", ["technologist"]);
  await t.enrol("rad-1", ["radiologist"]);
  await t.enrol("pt-q", ["patient"], { patient: PATIENT });
  await t.node.appender.append(t.sign(tech, "study.registered", studyBody(PATIENT, { studyKey: STUDY_KEY })));
  svc = await ConsortiumService.open(t.node, consortiumPorts, { background: false });
  api = await startApi({ consortium: svc }, t);
  // Two gatekeeper decisions about the patient: entries that name the patient and the actor.
  for (let i = 0; i < 2; i++)
    await api.app.radledger.gatekeeper.authorize({
      actor: "rad-1",
      patient: PATIENT,
      part: { kind: "record" },
      action: "read",
      purpose: "TREAT",
    });
}, 60_000);

afterAll(async () => {
  await api.close();
  await svc.close();
});

describe("GET /api/v1/log/checkpoints", () => {
  test("the history pages newest first; each item's root is its note's, with cosignatures and anchors where known", async () => {
    const size = api.t.node.ledger.size;
    const all = api.t.node.store.checkpoints().map((c) => c.size);
    expect(all.length).toBeGreaterThan(3);
    // One checkpoint published with cosignatures and anchored; a later one anchored too.
    const marked = all[2]!;
    svc.store.saveCosigned({
      size: marked,
      note: api.t.node.store.checkpointAtLeast(marked)!.note,
      final: true,
      witnesses: ["witness-a.example", "witness-b.example"],
      publishedAt: Date.parse("2026-03-04T05:06:07.000Z"),
    });
    svc.store.saveAnchor({
      size: marked,
      root: "r",
      txHash: "0xabc",
      gasUsed: 1,
      blockNumber: 42,
      anchoredAt: Date.parse("2026-03-04T05:07:00.000Z"),
    });
    svc.store.saveAnchor({
      size: all[3]!,
      root: "r",
      txHash: "0xdef",
      gasUsed: 1,
      blockNumber: 43,
      anchoredAt: 0,
    });

    const seen: number[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const page = await json<{ items: J[]; next?: string; size: number; anchoredSize?: number }>(
        `/api/v1/log/checkpoints?limit=2${next === undefined ? "" : `&before=${next}`}`,
      );
      expect(page.size).toBe(size);
      expect(page.anchoredSize).toBe(all[3]);
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) {
        const note = item.note as string;
        expect(note.split("\n")[1]).toBe(String(item.size));
        expect(item.root).toBe(note.split("\n")[2]);
        expect(item.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
        seen.push(item.size as number);
        if (item.size === marked) {
          expect(item.cosigned).toEqual({
            witnesses: ["witness-a.example", "witness-b.example"],
            count: 2,
            final: true,
            publishedAt: "2026-03-04T05:06:07.000Z",
          });
          expect(item.anchor).toEqual({
            txHash: "0xabc",
            blockNumber: 42,
            anchoredAt: "2026-03-04T05:07:00.000Z",
          });
        } else {
          expect(item.cosigned).toBeUndefined();
          if (item.size !== all[3]) expect(item.anchor).toBeUndefined();
        }
      }
      next = page.next;
      pages++;
    } while (next !== undefined && pages < 100);
    expect(seen).toEqual([...all].reverse());
  });

  test("sample=N spreads at most N checkpoints over the sizes, oldest first, ending at the latest", async () => {
    const all = api.t.node.store.checkpoints().map((c) => c.size);
    const sampled = await json<{ items: J[] }>("/api/v1/log/checkpoints?sample=3");
    const sizes = sampled.items.map((i) => i.size as number);
    expect(sizes.length).toBeGreaterThan(0);
    expect(sizes.length).toBeLessThanOrEqual(3);
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    expect(sizes.every((s) => all.includes(s))).toBe(true);
    expect(sizes.at(-1)).toBe(all.at(-1));
    const many = await json<{ items: J[] }>("/api/v1/log/checkpoints?sample=500");
    expect(many.items.map((i) => i.size)).toEqual(all);
  });
});

describe("GET /api/v1/log/recent", () => {
  test("entries newest first with index, leaf hash, type and minute only; paging and the type filter", async () => {
    const size = api.t.node.ledger.size;
    const first = await json<{ items: J[]; next?: string; size: number; counts: Record<string, number> }>(
      "/api/v1/log/recent?limit=3",
    );
    expect(first.size).toBe(size);
    expect(first.items.map((i) => i.index)).toEqual([size - 1, size - 2, size - 3]);
    for (const item of first.items) {
      expect(Object.keys(item).sort()).toEqual(["index", "leafHash", "time", "type"]);
      const stored = api.t.node.store.readEntry(item.index as number)!;
      expect(item.type).toBe(stored.type);
      expect(api.t.node.store.indexOfLeafHash(fromHex(item.leafHash as string))).toBe(item.index);
      expect(item.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    }
    expect(first.next).toBe(String(size - 3));
    const second = await json<{ items: J[] }>(`/api/v1/log/recent?limit=3&before=${first.next}`);
    expect(second.items.map((i) => i.index)).toEqual([size - 4, size - 5, size - 6]);

    const enrolled = await json<{ items: J[]; next?: string }>(
      "/api/v1/log/recent?type=actor.enrolled&limit=100",
    );
    expect(enrolled.items.every((i) => i.type === "actor.enrolled")).toBe(true);
    expect(enrolled.items.map((i) => i.index)).toEqual(
      api.t.node.store
        .readEntries(0, size)
        .filter((e) => e.type === "actor.enrolled")
        .map((e) => e.index)
        .reverse(),
    );
    expect(enrolled.next).toBeUndefined();
    // Past the end of the log: the newest entries, never an index beyond the checkpoint.
    const beyond = await json<{ items: J[] }>("/api/v1/log/recent?limit=1&before=9999999999");
    expect(beyond.items[0]!.index).toBe(size - 1);
    expect((await json<{ items: J[] }>("/api/v1/log/recent?before=0")).items).toEqual([]);
  });

  test("the counts by type are the log's, and follow appends", async () => {
    const count = (): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const e of api.t.node.store.readEntries(0, api.t.node.ledger.size))
        out[e.type] = (out[e.type] ?? 0) + 1;
      return out;
    };
    expect((await json<{ counts: J }>("/api/v1/log/recent?limit=1")).counts).toEqual(count());
    await api.t.enrol("rad-2", ["radiologist"]);
    const after = (await json<{ counts: Record<string, number> }>("/api/v1/log/recent?limit=1")).counts;
    expect(after).toEqual(count());
    expect(after["actor.enrolled"]).toBeGreaterThan(3);
  });

  test("nothing personal: no pseudonym, actor, reference or body in any public answer", async () => {
    const texts: string[] = [];
    let next: string | undefined;
    do {
      const r = await get(`/api/v1/log/recent?limit=100${next === undefined ? "" : `&before=${next}`}`);
      texts.push(r.text);
      next = (JSON.parse(r.text) as { next?: string }).next;
    } while (next !== undefined);
    texts.push((await get("/api/v1/log/checkpoints?limit=100")).text);
    for (let i = 0; i < api.t.node.ledger.size; i++)
      texts.push((await get(`/api/v1/log/entries/${i}/proof`)).text);
    const all = texts.join("\n");
    // The accesses above named the patient and the radiologist; the study named the patient.
    expect(
      api.t.node.store
        .readEntries(0, api.t.node.ledger.size)
        .some((e) => Buffer.from(e.bytes).includes(PATIENT)),
    ).toBe(true);
    for (const secret of [
      PATIENT,
      STUDY_KEY,
      "rad-1",
      "pt-q",
      "tech-1",
      '"actor"',
      '"refs"',
      '"body"',
      '"sig"',
    ])
      expect(all, secret).not.toContain(secret);
  });
});

describe("GET /api/v1/log/entries/:ref/proof", () => {
  test("anyone gets an entry's public view and an inclusion proof that checks against the latest checkpoint", async () => {
    const size = api.t.node.ledger.size;
    const index = size - 2;
    const byIndex = await json<J & { inclusion: { size: number; proof: string[] }; checkpoint: string }>(
      `/api/v1/log/entries/${index}/proof`,
    );
    expect(byIndex).toMatchObject({ index, type: "access.recorded" });
    expect(byIndex.inclusion.size).toBe(size);
    const root = fromBase64(byIndex.checkpoint.split("\n")[2]!);
    expect(byIndex.checkpoint.split("\n")[1]).toBe(String(size));
    verifyInclusion(
      crypto,
      index,
      size,
      fromHex(byIndex.leafHash as string),
      byIndex.inclusion.proof.map(fromBase64),
      root,
    );
    const byHash = await json(`/api/v1/log/entries/${byIndex.leafHash as string}/proof`);
    expect(byHash).toEqual(byIndex);
    // The entry itself stays for peers, admins and auditors.
    expect((await get(`/api/v1/log/entries/${index}`)).status).toBe(401);
    expect(toBase64(root)).toBe(byIndex.checkpoint.split("\n")[2]);
  });

  test.each([
    [`/api/v1/log/entries/999999/proof`, 404, "ENTRY_NOT_FOUND"],
    [`/api/v1/log/entries/${"0".repeat(64)}/proof`, 404, "ENTRY_NOT_FOUND"],
    [`/api/v1/log/entries/9999999999999999/proof`, 400, "INPUT_INVALID"],
    [`/api/v1/log/entries/${"A".repeat(64)}/proof`, 400, "INPUT_INVALID"],
    [`/api/v1/log/entries/-1/proof`, 400, "INPUT_INVALID"],
    [`/api/v1/log/entries/1/proof?x=1`, 400, "INPUT_INVALID"],
  ])("%s → %i %s", async (path, status, code) => {
    const r = await get(path);
    expect(r.status, r.text).toBe(status);
    expect(JSON.parse(r.text)).toMatchObject({ code });
  });
});

describe("hostile query parameters get a coded 400, never a crash or a scan", () => {
  test.each([
    "/api/v1/log/recent?limit=0",
    "/api/v1/log/recent?limit=101",
    "/api/v1/log/recent?limit=abc",
    "/api/v1/log/recent?limit=1e3",
    "/api/v1/log/recent?limit=-5",
    "/api/v1/log/recent?before=-1",
    "/api/v1/log/recent?before=99999999999999999",
    "/api/v1/log/recent?before=9999999999999999",
    "/api/v1/log/recent?before=01",
    "/api/v1/log/recent?type=Study.Registered",
    "/api/v1/log/recent?type=no.such.type",
    "/api/v1/log/recent?type=%3Cscript%3E",
    "/api/v1/log/recent?type=study.registered&type=actor.enrolled",
    `/api/v1/log/recent?type=${"a".repeat(300)}`,
    "/api/v1/log/recent?actor=rad-1",
    "/api/v1/log/checkpoints?limit=0",
    "/api/v1/log/checkpoints?limit=1000",
    "/api/v1/log/checkpoints?before=x",
    "/api/v1/log/checkpoints?before=9999999999999999",
    "/api/v1/log/checkpoints?sample=0",
    "/api/v1/log/checkpoints?sample=501",
    "/api/v1/log/checkpoints?sample=5&before=3",
    "/api/v1/log/checkpoints?sample=5&limit=3",
    "/api/v1/log/checkpoints?page=2",
  ])("%s", async (path) => {
    const r = await get(path);
    expect(r.status, r.text).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ code: "INPUT_INVALID" });
  });

  test("the OpenAPI document lists the explorer's routes as public", async () => {
    const doc = await json<{ paths: Record<string, { get?: { security?: unknown[] } }> }>(
      "/api/v1/openapi.json",
    );
    for (const path of ["/api/v1/log/checkpoints", "/api/v1/log/recent", "/api/v1/log/entries/{ref}/proof"])
      expect(doc.paths[path]?.get, path).toBeDefined();
  });
});
