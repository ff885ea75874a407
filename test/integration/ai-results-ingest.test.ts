/**
 * AI results from DICOM through `radledger ingest` (docs/intake.md "AI results from DICOM"): a folder
 * holding a study's images and the AI platform's SR and SEG becomes the study's registration plus one
 * ai.inference per AI object — model matched to its registered version, input = the study's manifest
 * root (the AI objects are not in it), output = a vault commitment to the object's SHA-256 and its
 * AIW-I workitem pseudonym — and the recall query finds the study and patient. Each refusal has its
 * code (and, for an unknown or unidentified model, an alarm for the admin); ingesting again records
 * nothing twice.
 */
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeEntry } from "../../src/core/entry.js";
import { aiRecall } from "../../src/domain/ai/queries.js";
import { getStudy } from "../../src/domain/imaging/state.js";
import { ingestPaths, type IngestSummary } from "../../src/app/ingest.js";
import { makeAiResult } from "../fixtures/dicom/make-ai-result.js";
import { makeStudy, writeStudy } from "../fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../fixtures/dicom/tools.js";
import { fakeHash } from "../helpers/fixtures.js";
import { startApi } from "../helpers/api.js";
import { runCli } from "../helpers/cli.js";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";

const lung = { vendor: "Acme AI", name: "LungNodule", version: "2.1.0" };
const seg = { vendor: "Acme AI", name: "LungSeg", version: "1.0" };
let t: TestNode;
const tmp = tempDir("radledger-ai-ingest-");

async function registerModel(m: { vendor: string; name: string; version: string }): Promise<string> {
  const { leafHash } = await t.node.appender.append(
    t.sign(t.admin, "ai.model.registered", { ...m, artifactHash: fakeHash(), intendedUse: "lung nodules" }),
  );
  return leafHash;
}

beforeAll(async () => {
  ensureDicomTools();
  t = await makeNode();
  await registerModel(lung);
  await registerModel(seg);
});
afterAll(async () => {
  await t.close();
  tmp.remove();
});

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

describe("radledger ingest of AI results", () => {
  const folder = join(tmp.path, "study-a");
  const spec = { seed: "ai-ingest-a", series: 1, instancesPerSeries: 2, multiFrameFrames: 0 };
  const study = makeStudy(spec);
  const sr = makeAiResult(study, { kind: "sr", seed: "a-sr", ...lung, groups: 3, workitemUid: "2.25.777" });
  const segObj = makeAiResult(study, { kind: "seg", seed: "a-seg", ...seg, segments: 2 });
  const human = makeAiResult(study, { kind: "sr", seed: "a-human", identification: "none" });
  let first: IngestSummary;

  beforeAll(async () => {
    await writeStudy(folder, spec);
    mkdirSync(join(folder, "ai"), { recursive: true });
    for (const f of [sr, segObj, human]) writeFileSync(join(folder, f.fileName), f.bytes);
    first = await ingestPaths(t.node, [folder], { workers: 1, sourceName: "ai-platform" });
  });

  it("registers the study without the AI objects and records one inference per AI object", () => {
    expect(first.studies).toHaveLength(1);
    const s = first.studies[0]!;
    expect(s.status).toBe("registered");
    // The images and the clinician's SR are the study; the AI SR and SEG are outputs made from it.
    expect(s.instanceCount).toBe(3);
    expect(first.aiResults.map((a) => [a.kind, a.status, a.findingCount])).toEqual([
      ["seg", "recorded", 2], // in path order: ai/seg-… before ai/sr-…
      ["sr", "recorded", 3],
    ]);
    const doc = getStudy(t.node.store, s.studyId!)!;
    for (const a of first.aiResults) {
      const stored = t.node.store.readEntry(a.index!)!;
      const entry = decodeEntry(stored.bytes);
      expect(entry.type).toBe("ai.inference");
      expect(entry.actor).toBe("institution");
      expect(entry.refs).toMatchObject({ study: s.studyId });
      const body = entry.body as {
        inputManifestRoot: string;
        outputCommitment: string;
        findingCount: number;
      };
      expect(body.inputManifestRoot).toBe(doc.manifestRoot);
      expect(body.findingCount).toBe(a.findingCount);
      // The commitment opens (vault) to the object's exact bytes' hash.
      const content = t.node.vault.get(body.outputCommitment)!.content as Record<string, unknown>;
      expect(content.fileSha256).toBe(sha256(a.kind === "sr" ? sr.bytes : segObj.bytes));
      expect(content.instance).toBe(a.instanceKey);
    }
    // The AIW-I workitem is kept as a keyed pseudonym, never the raw UID.
    const srOut = first.aiResults.find((a) => a.kind === "sr")!;
    expect(srOut.workitem).toBe(t.node.pseudonym("workitem", "2.25.777"));
    const srBody = decodeEntry(t.node.store.readEntry(srOut.index!)!.bytes).body as {
      outputCommitment: string;
    };
    expect((t.node.vault.get(srBody.outputCommitment)!.content as { workitem: string }).workitem).toMatch(
      /^wi_/,
    );
    expect(JSON.stringify(decodeEntry(t.node.store.readEntry(srOut.index!)!.bytes))).not.toContain(
      "2.25.777",
    );
  });

  it("the recall query finds the study and its patient for each model", () => {
    const s = first.studies[0]!;
    const patient = getStudy(t.node.store, s.studyId!)!.patient;
    for (const m of [lung, seg]) {
      const r = aiRecall(t.node.store, m);
      expect(r.studies).toEqual([s.studyId]);
      expect(r.patients).toEqual([patient]);
    }
  });

  it("ingesting the same folder again records nothing twice", async () => {
    const size = t.node.ledger.size;
    const again = await ingestPaths(t.node, [folder], { workers: 1 });
    expect(again.studies[0]!.status).toBe("already-registered");
    expect(again.studies[0]!.differs).toBe(false);
    expect(again.aiResults.map((a) => [a.status, a.index])).toEqual(
      first.aiResults.map((a) => ["already-recorded", a.index]),
    );
    expect(t.node.ledger.size).toBe(size);
  });

  it("unknown model: AI_MODEL_UNKNOWN, nothing recorded, one alarm for the admin counted per occurrence", async () => {
    const dir = join(tmp.path, "unknown");
    const other = { vendor: "Acme AI", name: "LungNodule", version: "9.9.9" }; // an unregistered version
    const f = makeAiResult(study, { kind: "sr", seed: "unknown-sr", ...other });
    mkdirSync(dir);
    writeFileSync(join(dir, "sr.dcm"), f.bytes);
    const size = t.node.ledger.size;
    const r1 = await ingestPaths(t.node, [dir], { workers: 1 });
    const r2 = await ingestPaths(t.node, [dir], { workers: 1 });
    for (const r of [r1, r2]) {
      expect(r.aiResults).toHaveLength(1);
      expect(r.aiResults[0]).toMatchObject({ status: "refused", error: { code: "AI_MODEL_UNKNOWN" } });
    }
    expect(t.node.ledger.size).toBe(size);
    const alarm = t.node.alarms.list().find((a) => a.code === "AI_MODEL_UNKNOWN")!;
    expect(alarm).toMatchObject({ subject: "model Acme AI / LungNodule / 9.9.9", count: 2 });
  });

  it("the admin reads the alarm at GET /api/v1/alarms and acknowledges it; other roles are refused", async () => {
    const api = await startApi({}, t);
    try {
      const admin = await api.token("admin");
      await t.enrol("rad-alarms", ["radiologist"]);
      const rad = await api.token("rad-alarms");
      const list = await api.call<{ items: { id: number; code: string; subject: string; count: number }[] }>(
        "GET",
        "/api/v1/alarms",
        { token: admin },
      );
      expect(list.status).toBe(200);
      const a = list.body.items.find((x) => x.code === "AI_MODEL_UNKNOWN")!;
      expect(a).toMatchObject({ subject: "model Acme AI / LungNodule / 9.9.9", count: 2 });
      const denied = await api.call<{ code: string }>("GET", "/api/v1/alarms", { token: rad });
      expect([denied.status, denied.body.code]).toEqual([403, "FORBIDDEN_ROLE"]);
      const ack = await api.call("POST", `/api/v1/alarms/${a.id}/acknowledgement`, { token: admin });
      expect(ack.status).toBe(200);
      const open = await api.call<{ items: { code: string }[] }>("GET", "/api/v1/alarms", { token: admin });
      expect(open.body.items.some((x) => x.code === "AI_MODEL_UNKNOWN")).toBe(false);
      const all = await api.call<{ items: { code: string }[] }>("GET", "/api/v1/alarms?all=true", {
        token: admin,
      });
      expect(all.body.items.some((x) => x.code === "AI_MODEL_UNKNOWN")).toBe(true);
      const missing = await api.call<{ code: string }>("POST", "/api/v1/alarms/999999/acknowledgement", {
        token: admin,
      });
      expect([missing.status, missing.body.code]).toEqual([404, "RECORD_NOT_FOUND"]);
    } finally {
      await api.close();
    }
  });

  it("missing algorithm identification: AI_RESULT_UNIDENTIFIED and an alarm", async () => {
    const dir = join(tmp.path, "unidentified");
    mkdirSync(dir);
    // An AUTOMATIC segmentation without Segment Algorithm Name or Software Versions.
    writeFileSync(
      join(dir, "seg.dcm"),
      makeAiResult(study, { kind: "seg", seed: "anon-seg", vendor: "Acme AI" }).bytes,
    );
    const r = await ingestPaths(t.node, [dir], { workers: 1 });
    expect(r.aiResults[0]).toMatchObject({ status: "refused", error: { code: "AI_RESULT_UNIDENTIFIED" } });
    expect(t.node.alarms.list().some((a) => a.code === "AI_RESULT_UNIDENTIFIED")).toBe(true);
  });

  it("a result for a study the node never registered: AI_STUDY_NOT_REGISTERED", async () => {
    const dir = join(tmp.path, "orphan");
    mkdirSync(dir);
    const elsewhere = makeStudy({ seed: "ai-ingest-never-registered", series: 1, instancesPerSeries: 1 });
    writeFileSync(
      join(dir, "sr.dcm"),
      makeAiResult(elsewhere, { kind: "sr", seed: "orphan", ...lung }).bytes,
    );
    const size = t.node.ledger.size;
    const r = await ingestPaths(t.node, [dir], { workers: 1 });
    expect(r.studies).toHaveLength(0);
    expect(r.aiResults[0]).toMatchObject({ status: "refused", error: { code: "AI_STUDY_NOT_REGISTERED" } });
    expect(t.node.ledger.size).toBe(size);
  });
});

describe("radledger ingest (the command)", () => {
  it("prints each AI result and exits with the refusal's code; `radledger alarms` lists and acknowledges the alarm", async () => {
    const dir = join(tmp.path, "cli");
    const spec = { seed: "ai-ingest-cli", series: 1, instancesPerSeries: 1, multiFrameFrames: 0 };
    const study = await writeStudy(dir, spec);
    mkdirSync(join(dir, "ai"), { recursive: true });
    writeFileSync(
      join(dir, "ai", "sr.dcm"),
      makeAiResult(study, { kind: "sr", seed: "cli-sr", ...lung }).bytes,
    );
    writeFileSync(
      join(dir, "ai", "unknown.dcm"),
      makeAiResult(study, { kind: "seg", seed: "cli-seg", vendor: "Other AI", name: "X", version: "1" })
        .bytes,
    );
    // A node of its own: the command takes the data directory's writer lock, so this node is closed.
    const c = await makeNode();
    await c.node.appender.append(
      c.sign(c.admin, "ai.model.registered", {
        ...lung,
        artifactHash: fakeHash(),
        intendedUse: "lung nodules",
      }),
    );
    const dataDir = c.dir;
    await c.node.close();
    try {
      const r = await runCli(["ingest", dir, "--data", dataDir, "--quiet"]);
      expect(r.stdout).toMatch(
        /AI result in_\S+ \(SR, Acme AI \/ LungNodule \/ 2\.1\.0\): recorded as ai\.inference/,
      );
      expect(r.stderr).toContain("AI_MODEL_UNKNOWN");
      expect(r.code).toBe(7); // unprocessable (docs/errors.md)
      const json = await runCli(["ingest", dir, "--data", dataDir, "--json", "--quiet"]);
      const summary = JSON.parse(json.stdout) as IngestSummary;
      expect(summary.aiResults.map((a) => a.status).sort()).toEqual(["already-recorded", "refused"]);
      const recall = await runCli([
        "query",
        "ai-recall",
        "--data",
        dataDir,
        "--vendor",
        lung.vendor,
        "--name",
        lung.name,
        "--model-version",
        lung.version,
      ]);
      expect(recall.code).toBe(0);
      expect(recall.stdout).toContain("Acme AI LungNodule 2.1.0 (active): 0 reports, 1 studies, 1 patients");
      // The admin's alarm, from the command line too.
      const alarms = await runCli(["alarms", "--data", dataDir]);
      expect(alarms.code).toBe(0);
      expect(alarms.stdout).toMatch(/^#1 AI_MODEL_UNKNOWN model Other AI \/ X \/ 1: .* \(2×, last /m);
      expect((await runCli(["alarms", "ack", "1", "--data", dataDir])).stdout).toBe("#1 acknowledged\n");
      expect((await runCli(["alarms", "--data", dataDir])).stdout).toBe("no open alarms\n");
      const all = JSON.parse((await runCli(["alarms", "--data", dataDir, "--all", "--json"])).stdout) as {
        items: { code: string; acknowledgedAt: string | null }[];
      };
      expect(all.items.map((a) => [a.code, typeof a.acknowledgedAt])).toEqual([
        ["AI_MODEL_UNKNOWN", "string"],
      ]);
      expect((await runCli(["alarms", "ack", "99", "--data", dataDir])).code).toBe(3); // RECORD_NOT_FOUND
    } finally {
      rmSync(join(dataDir, ".."), { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
