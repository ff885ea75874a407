/**
 * AI results from Orthanc's changes feed, against a real Orthanc (docs/intake.md "AI results from
 * DICOM"): a study's images arrive and are registered; then the AI platform stores a TID 1500 SR and
 * a SEG into the study, Orthanc reports the study stable again, and the follower records one
 * ai.inference per object — the study's registration unchanged, the recall query finding the study
 * and its patient. An SR from an unregistered model is refused (AI_MODEL_UNKNOWN) with an alarm, and
 * a replayed change records nothing twice.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrthancClient } from "../../src/adapters/orthanc/client.js";
import { OrthancArchive } from "../../src/adapters/orthanc/archive.js";
import { ArchiveFollower, type FollowEvent } from "../../src/app/archive-follower.js";
import { aiRecall } from "../../src/domain/ai/queries.js";
import { getStudy } from "../../src/domain/imaging/state.js";
import { makeAiResult } from "../fixtures/dicom/make-ai-result.js";
import { makeStudy } from "../fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../fixtures/dicom/tools.js";
import { fakeHash } from "../helpers/fixtures.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { orthancForTests, type OrthancService } from "./orthanc-service.js";

const lung = { vendor: "Acme AI", name: "LungNodule", version: "2.1.0" };
const seg = { vendor: "Acme AI", name: "LungSeg", version: "1.0" };
let service: OrthancService;
let client: OrthancClient;
let t: TestNode;
const uploaded = new Set<string>();

beforeAll(async () => {
  ensureDicomTools();
  service = await orthancForTests();
  client = new OrthancClient({
    baseUrl: service.url,
    username: service.username,
    password: service.password,
  });
  t = await makeNode();
  for (const m of [lung, seg])
    await t.node.appender.append(
      t.sign(t.admin, "ai.model.registered", { ...m, artifactHash: fakeHash(), intendedUse: "lung nodules" }),
    );
});

afterAll(async () => {
  for (const id of uploaded) await client.deleteStudy(id).catch(() => undefined);
  await t.close();
  await service.stop();
});

async function upload(files: readonly Buffer[]): Promise<void> {
  for (const bytes of files) uploaded.add((await client.uploadInstance(bytes)).ParentStudy);
}

/** Passes until an event of `studyKey` satisfies `done` (bounded: Orthanc's StableAge). */
async function until(
  f: ArchiveFollower,
  studyKey: string,
  done: (e: FollowEvent) => boolean,
  timeoutMs = 40_000,
): Promise<FollowEvent> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = (await f.pass()).studies.find((e) => e.studyKey === studyKey && done(e));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100)); // poll interval of the bounded wait
  }
  throw new Error(`no matching event within ${timeoutMs} ms`);
}

describe("AI results from Orthanc's changes feed", () => {
  const study = makeStudy({
    seed: `orthanc-ai-${randomUUID()}`,
    series: 1,
    instancesPerSeries: 2,
    multiFrameFrames: 0,
  });
  const sr = makeAiResult(study, {
    kind: "sr",
    seed: `sr-${randomUUID()}`,
    ...lung,
    groups: 2,
    workitemUid: "2.25.31337",
  });
  const segObj = makeAiResult(study, { kind: "seg", seed: `seg-${randomUUID()}`, ...seg, segments: 3 });
  const unknown = makeAiResult(study, {
    kind: "sr",
    seed: `unknown-${randomUUID()}`,
    vendor: "Shadow AI",
    name: "Unregistered",
    version: "0.1",
  });
  let studyKey = "";
  let studyId = "";
  let cursorBeforeAi = 0;
  const follower = (): ArchiveFollower =>
    new ArchiveFollower(t.node, new OrthancArchive(client, service.url), {
      name: "orthanc-ai",
      fromNow: true,
    });

  it("an SR and a SEG stored into a registered study become inferences on its manifest root", async () => {
    studyKey = t.node.pseudonym("study", study.studyInstanceUid);
    const f = follower();
    await f.pass(); // starts at the end of the feed
    await upload(study.instances.map((i) => i.bytes));
    const registered = await until(f, studyKey, (e) => e.status === "registered");
    studyId = registered.outcome!.studyId!;
    const root = registered.outcome!.manifestRoot;

    cursorBeforeAi = f.cursor!;
    await upload([sr.bytes, segObj.bytes, unknown.bytes]);
    const e = await until(f, studyKey, (x) => (x.aiResults?.length ?? 0) > 0);
    // The study is the images: the AI objects do not change its registration.
    expect(e.status).toBe("already-registered");
    expect(e.outcome?.differs).toBe(false);
    const byStatus = (s: string): number => e.aiResults!.filter((a) => a.status === s).length;
    expect(byStatus("recorded")).toBe(2);
    expect(byStatus("refused")).toBe(1);
    expect(e.aiResults!.find((a) => a.status === "refused")!.error!.code).toBe("AI_MODEL_UNKNOWN");
    const recorded = e.aiResults!.filter((a) => a.status === "recorded");
    expect(recorded.map((a) => [a.kind, a.findingCount]).sort()).toEqual([
      ["seg", 3],
      ["sr", 2],
    ]);
    expect(recorded.find((a) => a.kind === "sr")!.workitem).toBe(t.node.pseudonym("workitem", "2.25.31337"));
    for (const a of recorded) {
      const doc = t.node.store.getDoc("ai.inference", a.inferenceId!) as {
        inputManifestRoot: string;
        study: string;
      };
      expect(doc).toMatchObject({ inputManifestRoot: root, study: studyId });
    }
    expect(t.node.alarms.list()).toEqual([
      expect.objectContaining({ code: "AI_MODEL_UNKNOWN", subject: "model Shadow AI / Unregistered / 0.1" }),
    ]);
  });

  it("the recall query finds the study and its patient", () => {
    const patient = getStudy(t.node.store, studyId)!.patient;
    for (const m of [lung, seg]) {
      const r = aiRecall(t.node.store, m);
      expect(r.studies).toEqual([studyId]);
      expect(r.patients).toEqual([patient]);
    }
  });

  it("a replayed change (crash before the cursor moved) records nothing twice", async () => {
    const size = t.node.ledger.size;
    t.node.manifests.setCursor(`orthanc ${service.url}`, cursorBeforeAi);
    const e = await until(follower(), studyKey, (x) => (x.aiResults?.length ?? 0) > 0);
    expect(e.aiResults!.map((a) => a.status).sort()).toEqual([
      "already-recorded",
      "already-recorded",
      "refused",
    ]);
    expect(t.node.ledger.size).toBe(size);
  });
});
