/**
 * Auto-registration from Orthanc's /changes feed against a real Orthanc (scripts/services/orthanc.sh
 * or the one .ci/run started): studies uploaded with realistic patient tags are registered once
 * stable; after a node restart the follower resumes from its persisted cursor, registering what
 * arrived meanwhile and nothing twice; a replayed change (crash before the cursor moved) is
 * idempotent.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrthancClient } from "../../src/adapters/orthanc/client.js";
import { OrthancArchive } from "../../src/adapters/orthanc/archive.js";
import { ArchiveFollower, type FollowEvent } from "../../src/app/archive-follower.js";
import { fromUtf8 } from "../../src/core/bytes.js";
import { makeStudy, type SyntheticStudy } from "../fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../fixtures/dicom/tools.js";
import { runCli } from "../helpers/cli.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { orthancForTests, type OrthancService } from "./orthanc-service.js";

let service: OrthancService;
let client: OrthancClient;
let t: TestNode;
const uploaded: string[] = [];

beforeAll(async () => {
  ensureDicomTools();
  service = await orthancForTests();
  client = new OrthancClient({
    baseUrl: service.url,
    username: service.username,
    password: service.password,
  });
  t = await makeNode();
});

afterAll(async () => {
  for (const id of uploaded) await client.deleteStudy(id).catch(() => undefined);
  await t.close();
  await service.stop();
});

const follower = (): ArchiveFollower =>
  new ArchiveFollower(t.node, new OrthancArchive(client, service.url), {
    name: "orthanc-test",
    fromNow: true,
  });

async function upload(study: SyntheticStudy): Promise<void> {
  for (const inst of study.instances) {
    const r = await client.uploadInstance(inst.bytes);
    if (!uploaded.includes(r.ParentStudy)) uploaded.push(r.ParentStudy);
  }
}

/** Runs passes until `studyKey` has an event (bounded: Orthanc marks it stable after StableAge). */
async function until(f: ArchiveFollower, studyKey: string, timeoutMs = 30_000): Promise<FollowEvent[]> {
  const events: FollowEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    events.push(...(await f.pass()).studies);
    if (events.some((e) => e.studyKey === studyKey)) return events;
    await new Promise((r) => setTimeout(r, 100)); // poll interval of the bounded wait
  }
  throw new Error(`study not registered within ${timeoutMs} ms`);
}

function registrationsOf(studyKey: string): number {
  let n = 0;
  for (let i = 0; i < t.node.ledger.size; i++) {
    const text = fromUtf8(t.node.store.readEntry(i)!.bytes);
    if (text.includes('"type":"study.registered"') && text.includes(studyKey)) n++;
  }
  return n;
}

describe("Orthanc /changes follower", () => {
  const a = makeStudy({ seed: `follow-a-${randomUUID()}`, series: 2, instancesPerSeries: 2, rle: true });
  const b = makeStudy({ seed: `follow-b-${randomUUID()}`, series: 1, instancesPerSeries: 2 });
  let keyA = "";
  let keyB = "";
  let cursorBeforeA = 0;

  it("registers a stable study uploaded to Orthanc, with no PHI on the ledger", async () => {
    keyA = t.node.pseudonym("study", a.studyInstanceUid);
    const f = follower();
    await f.pass(); // first run: starts at the end of the feed
    cursorBeforeA = f.cursor!;
    await upload(a);
    const events = await until(f, keyA);
    const e = events.find((x) => x.studyKey === keyA)!;
    expect(e.status).toBe("registered");
    expect(e.outcome?.instanceCount).toBe(a.instances.length);
    expect(registrationsOf(keyA)).toBe(1);
    const text = fromUtf8(t.node.store.readEntry(e.outcome!.index!)!.bytes);
    expect(text).toContain('"source":{"kind":"pacs","name":"orthanc-test"}');
    for (const phi of [a.patient.id, a.patient.name, a.accessionNumber, a.studyInstanceUid, uploaded[0]!])
      expect(text).not.toContain(phi);
    expect(t.node.manifests.study(keyA)?.orthancId).toBe(uploaded[0]);
  });

  it("resumes after a node restart: registers what arrived meanwhile, nothing twice", async () => {
    await t.reopen();
    await upload(b); // while the node is down
    await client.uploadInstance(a.instances[0]!.bytes); // a duplicate store: no change in Orthanc
    keyB = t.node.pseudonym("study", b.studyInstanceUid);
    const f = follower();
    expect(f.cursor).toBeGreaterThan(cursorBeforeA);
    const events = await until(f, keyB);
    expect(events.find((e) => e.studyKey === keyB)?.status).toBe("registered");
    expect(events.some((e) => e.studyKey === keyA)).toBe(false);
    expect(registrationsOf(keyA)).toBe(1);
    expect(registrationsOf(keyB)).toBe(1);
  });

  it("a change replayed after a crash (cursor not yet advanced) is idempotent", async () => {
    t.node.manifests.setCursor(`orthanc ${service.url}`, cursorBeforeA);
    const events = await until(follower(), keyB);
    expect(events.filter((e) => e.studyKey === keyA || e.studyKey === keyB).map((e) => e.status)).toEqual([
      "already-registered",
      "already-registered",
    ]);
    // (Other studies in a shared Orthanc may be registered meanwhile; ours are not registered again.)
    expect(registrationsOf(keyA)).toBe(1);
    expect(registrationsOf(keyB)).toBe(1);
  });

  it("the CLI follows once and exits 0; wrong credentials are a coded error", async () => {
    await t.node.close();
    try {
      const env = { url: service.url, user: service.username };
      const ok = await runCli([
        "orthanc",
        "follow",
        "--data",
        t.dir,
        "--url",
        env.url,
        "--user",
        env.user,
        "--password",
        service.password,
        "--once",
        "--json",
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ cursor: expect.any(Number) as number });
      const bad = await runCli([
        "orthanc",
        "follow",
        "--data",
        t.dir,
        "--url",
        env.url,
        "--user",
        env.user,
        "--password",
        "wrong",
        "--once",
      ]);
      expect(bad.stderr).toContain("ORTHANC_AUTH_FAILED");
      expect(bad.stderr).not.toContain("wrong");
      expect(bad.code).toBe(5);
    } finally {
      await t.reopen();
    }
  });
});
