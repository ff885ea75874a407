/**
 * The demo scenario end to end: seeded through the real append path, every query answered from the
 * CLI, no PHI in any entry, and erasure of a patient leaves their content unreadable while the log
 * still verifies.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fromUtf8 } from "../../src/core/bytes.js";
import { initDataDir } from "../../src/app/init.js";
import { DEMO_ORIGIN, seedDemo } from "../../src/app/demo/index.js";
import { openNode, nodeFactory } from "../../src/wiring/node.js";
import { auditDataDir } from "../../src/wiring/audit.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-demo-");
const dir = join(tmp.path, "demo");
const entries: string[] = [];
let reportContent: string[] = [];
let patientA = "";

beforeAll(async () => {
  await initDataDir(dir, { origin: DEMO_ORIGIN, institutionName: "Demo Hospital" }, nodeFactory);
  const node = openNode(dir, { verifyThreads: 0 });
  try {
    await seedDemo(node, nodeFactory);
    node.store.forEachEntry((e) => entries.push(fromUtf8(e.bytes)));
    patientA = node.pseudonym("patient", "DEMO-MRN-0001");
    reportContent = node.store.lookup("report.patient", patientA).flatMap((r) => {
      const doc = node.store.getDoc("report", r.value) as { contributions: { contentCommitment: string }[] };
      return doc.contributions.map((c) => c.contentCommitment);
    });
  } finally {
    await node.close();
  }
}, 60_000);
afterAll(() => tmp.remove());

describe("the demo scenario", () => {
  test("covers every family through the real append path and verifies", async () => {
    const types = new Set(entries.map((e) => (JSON.parse(e) as { type: string }).type));
    for (const t of [
      "institution.genesis",
      "actor.enrolled",
      "study.registered",
      "ai.model.registered",
      "ai.inference",
      "ai.finding.disposition",
      "report.opened",
      "report.contribution",
      "consult.requested",
      "consult.answered",
      "report.signed",
      "report.amended",
      "consent.granted",
      "consent.revoked",
      "care.assigned",
      "access.recorded",
      "trial.registered",
      "trial.subject.enrolled",
      "trial.timepoint.imaged",
      "trial.read.recorded",
      "trial.correction",
      "dataset.created",
      "dataset.item.added",
      "dataset.annotation.added",
      "dataset.contribution.vendor",
      "dataset.version.sealed",
      "dataset.shared",
      "model.validation.recorded",
    ]) {
      expect(types, t).toContain(t);
    }
    const accesses = entries
      .map((e) => JSON.parse(e) as { type: string; body: { decision?: string; basis?: { kind: string } } })
      .filter((e) => e.type === "access.recorded");
    expect(accesses.some((a) => a.body.decision === "deny")).toBe(true);
    expect(accesses.some((a) => a.body.basis?.kind === "break-glass")).toBe(true);
    expect(await auditDataDir(dir, { threads: 0 })).toMatchObject({ ok: true });
    expect(await auditDataDir(join(dir, "partner"), { threads: 0 })).toMatchObject({ ok: true });
  });

  test("no entry carries PHI: no raw record numbers, DICOM UIDs, person-name or birth-date values, no report text", () => {
    const forbidden = [
      /DEMO-MRN-\d+/,
      /PARTNER-MRN-\d+/,
      /1\.2\.826\.0\.1\.3680043/,
      /\^/,
      /\b(19|20)\d\d-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])\b(?!T)/,
      /infarct|consolidation|cough|echocardiography/i,
      /"(patientName|patientId|birthDate|accessionNumber|studyInstanceUid)"/i,
    ];
    for (const e of entries) {
      // Entry times are the only dates allowed: strip them before looking for birth dates.
      const withoutTimes = e.replace(/"(time|start|end)":"[^"]*"/g, "");
      for (const pattern of forbidden)
        expect(withoutTimes, `${pattern} in ${e.slice(0, 120)}`).not.toMatch(pattern);
    }
    // Patients appear only as keyed pseudonyms.
    for (const e of entries) {
      for (const m of e.matchAll(/"patient":"([^"]*)"/g)) expect(m[1]).toMatch(/^pt_[A-Za-z0-9_-]{43}$/);
    }
  });

  test("every query verb answers from the CLI, with --json lists of objects with ids", async () => {
    for (const kind of ["studies", "reports", "models", "patients", "trials", "datasets"]) {
      const r = await runCli(["query", "list", kind, "--data", dir, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const items = JSON.parse(r.stdout) as { id: string }[];
      expect(items.length, kind).toBeGreaterThan(0);
      for (const item of items) expect(typeof item.id).toBe("string");
    }
    const reports = JSON.parse(
      (await runCli(["query", "list", "reports", "--data", dir, "--json"])).stdout,
    ) as { id: string }[];
    const report = JSON.parse(
      (await runCli(["query", "report", reports[0]!.id.slice(0, 10), "--data", dir, "--json"])).stdout,
    ) as { sections: unknown[]; signOff: unknown };
    expect(report.sections.length).toBeGreaterThan(1);
    const recall = JSON.parse(
      (
        await runCli([
          "query",
          "ai-recall",
          "--vendor",
          "Acme AI",
          "--name",
          "BrainLesionNet",
          "--model-version",
          "2.1.0",
          "--data",
          dir,
          "--json",
        ])
      ).stdout,
    ) as { reports: string[] };
    expect(recall.reports).toHaveLength(1);
    const history = JSON.parse(
      (await runCli(["query", "access-history", "--patient", patientA, "--data", dir, "--json"])).stdout,
    ) as { items: unknown[] };
    expect(history.items.length).toBeGreaterThan(0);
    // The demo PACS's reported access (IHE ATNA) is in the history beside the decided ones.
    expect(history.items).toContainEqual(
      expect.objectContaining({
        origin: "reported",
        reportedBy: { actor: "pacs-demo", displayName: "Demo PACS" },
      }),
    );
    expect(history.items).toContainEqual(expect.objectContaining({ origin: "decided" }));
    const printed = (await runCli(["query", "access-history", "--patient", patientA, "--data", dir])).stdout;
    expect(printed).toContain(
      "reported by pacs-demo (Demo PACS) via syslog-tls (authenticated by certificate;",
    );
    expect(
      JSON.parse((await runCli(["query", "break-glass-queue", "--data", dir, "--json"])).stdout),
    ).toMatchObject({
      items: [
        expect.objectContaining({ basis: expect.objectContaining({ kind: "break-glass" }) as unknown }),
      ],
    });
    const datasets = JSON.parse(
      (await runCli(["query", "list", "datasets", "--data", dir, "--json"])).stdout,
    ) as { id: string }[];
    expect(
      JSON.parse(
        (await runCli(["query", "dataset-credits", "--dataset", datasets[0]!.id, "--data", dir, "--json"]))
          .stdout,
      ),
    ).toMatchObject({ sealed: true, totals: { items: 2 } });
    const studies = JSON.parse(
      (await runCli(["query", "list", "studies", "--data", dir, "--json"])).stdout,
    ) as { id: string; patient: string }[];
    const own = studies.find((s) => s.patient === patientA)!;
    // A study is its registration entry: a short id resolves through the leaf hashes.
    const record = JSON.parse(
      (await runCli(["query", "study", own.id.slice(0, 9), "--data", dir, "--json"])).stdout,
    ) as { study: { id: string; patient: string; index: number } };
    expect(record.study).toMatchObject({ id: own.id, patient: patientA });
    expect(record.study.index).toBeGreaterThan(0);
    expect(
      JSON.parse(
        (
          await runCli([
            "query",
            "consent-decision",
            "--actor",
            "rad-neuro-1",
            "--patient",
            patientA,
            "--part",
            `study:${own.id}`,
            "--purpose",
            "TREAT",
            "--data",
            dir,
            "--json",
          ])
        ).stdout,
      ),
    ).toMatchObject({ decision: "permit" });
    const bad = await runCli(["query", "report", "nothex", "--data", dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("INPUT_INVALID");
  });

  test("erasing a patient makes their content unreadable, records the erasure, and the log still verifies", async () => {
    const before = openNode(dir, { verifyThreads: 0 });
    try {
      expect(reportContent.length).toBeGreaterThan(0);
      for (const c of reportContent) expect(before.vault.get(c)).toBeDefined();
    } finally {
      await before.close();
    }
    const r = await runCli(["erase", "patient", "--data", dir, "--patient", patientA, "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ recorded: true });
    const after = openNode(dir, { verifyThreads: 0 });
    try {
      for (const c of reportContent) expect(after.vault.get(c)).toBeUndefined();
      expect(after.store.getDoc("erasure", patientA)).toMatchObject({ reason: "patient-request" });
    } finally {
      await after.close();
    }
    expect(
      JSON.parse(
        (await runCli(["erase", "patient", "--data", dir, "--patient", patientA, "--yes", "--json"])).stdout,
      ),
    ).toMatchObject({ recorded: false, items: 0 });
    expect(await auditDataDir(dir, { threads: 0 })).toMatchObject({ ok: true });
  });
});
