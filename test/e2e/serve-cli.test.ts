/**
 * The command line beside a running node: while `radledger serve` holds a data directory, its writing
 * verbs (ingest, deidentify, erase) go to the serving node over its local socket and are appended
 * through the node's one appender (counted in its /metrics), and its reading verbs (query, export
 * fhir, export bundle, consortium status) use a read-only view. Run against the built CLI, as an
 * operator would, with synthetic DICOM from dcmtk.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { writeStudy, type SyntheticStudy } from "../fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../fixtures/dicom/tools.js";
import { runCli, startServe } from "../helpers/cli.js";
import { makeNode, tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-serve-cli-");
let dataDir = "";
let study: SyntheticStudy;
let subject = "";
let patient = "";
let server: Awaited<ReturnType<typeof startServe>>;
let closeNodeDir = async (): Promise<void> => undefined;

/** Entries admitted by the serving node's appender so far, from its Prometheus metrics. */
async function admitted(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^radledger_appends_total\{outcome="admitted"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

/** `radledger deidentify` of a study for the trial subject's baseline timepoint. */
const deidentifyForTrial = (study: string, out: string, ...extra: string[]) =>
  runCli([
    ...["deidentify", "--data", dataDir, "--study", study, "--for", "trial"],
    ...["--subject", subject, "--timepoint", "baseline", "--out", out, ...extra],
  ]);

async function logSize(): Promise<number> {
  return Number((await (await fetch(`${server.url}/checkpoint`)).text()).split("\n")[1]);
}

beforeAll(async () => {
  ensureDicomTools();
  study = await writeStudy(join(tmp.path, "study"), {
    seed: `serve-cli-${randomUUID()}`,
    series: 1,
    instancesPerSeries: 2,
  });
  // A trial and one enrolled subject, appended before the node is served.
  const t = await makeNode();
  dataDir = t.dir;
  const trial = await t.node.appender.append(
    t.sign(t.admin, "trial.registered", {
      sponsor: "Synthetic Pharma",
      protocolId: "SYN-9",
      timepoints: ["baseline"],
    }),
  );
  subject = (
    await t.node.appender.append(
      t.sign(
        t.institution,
        "trial.subject.enrolled",
        { subject: t.node.pseudonym("trial-subject", "SUBJ-9", trial.leafHash) },
        { trial: trial.leafHash },
      ),
    )
  ).leafHash;
  patient = t.node.pseudonym("patient", study.patient.id);
  await t.node.close(); // the directory stays: `radledger serve` opens it next
  closeNodeDir = () => t.close();
  server = await startServe(dataDir);
}, 120_000);

afterAll(async () => {
  await server.stop();
  await closeNodeDir();
  tmp.remove();
});

test("writing verbs run in the serving node, through its appender; reading verbs read beside it", async () => {
  const before = { admitted: await admitted(), size: await logSize() };

  // ingest: the study is registered by the serving node (paths are resolved here, used there).
  const ingest = await runCli(["ingest", "--data", dataDir, join(tmp.path, "study"), "--json", "--quiet"]);
  expect(ingest.code, ingest.stderr).toBe(0);
  const summary = JSON.parse(ingest.stdout) as { studies: { status: string; studyId: string }[] };
  expect(summary.studies.map((s) => s.status)).toEqual(["registered"]);
  const studyId = summary.studies[0]!.studyId;

  // deidentify: the copy is written where the operator asked, and recorded on the log.
  const out = join(tmp.path, "deid-out");
  const deid = await deidentifyForTrial(studyId, out, "--json");
  expect(deid.code, deid.stderr).toBe(0);
  expect(JSON.parse(deid.stdout)).toMatchObject({
    entryType: "trial.timepoint.imaged",
    instanceCount: study.instances.length,
  });
  expect(readdirSync(out)).toHaveLength(study.instances.length);

  // erase: recorded on the log by the serving node.
  const erase = await runCli([
    "erase",
    "patient",
    "--data",
    dataDir,
    "--patient",
    patient,
    "--yes",
    "--json",
  ]);
  expect(erase.code, erase.stderr).toBe(0);
  expect(JSON.parse(erase.stdout)).toMatchObject({ recorded: true });

  // Three entries, each counted by the serving node's appender metrics.
  expect(await logSize()).toBe(before.size + 3);
  expect(await admitted()).toBe(before.admitted + 3);

  // Reading verbs, beside the running node; each records its read through it first.
  const query = await runCli(["query", "study", studyId.slice(0, 12), "--data", dataDir, "--json"]);
  expect(query.code, query.stderr).toBe(0);
  expect(JSON.parse(query.stdout)).toMatchObject({ study: { id: studyId } });

  const fhirFile = join(tmp.path, "fhir.json");
  const fhir = await runCli(["export", "fhir", "--data", dataDir, "--patient", patient, "--out", fhirFile]);
  expect(fhir.code, fhir.stderr).toBe(0);
  expect(JSON.parse(readFileSync(fhirFile, "utf8"))).toMatchObject({ resourceType: "Bundle" });

  const bundleFile = join(tmp.path, "subject.radledger.tar");
  const bundle = await runCli([
    "export",
    "bundle",
    "--data",
    dataDir,
    "--kind",
    "trial-subject",
    "--id",
    subject,
    "--out",
    bundleFile,
    "--files",
    out,
    "--quiet",
  ]);
  expect(bundle.code, bundle.stderr).toBe(0);
  expect(statSync(bundleFile).size).toBeGreaterThan(0);
  const key = (await runCli(["key", "--data", dataDir])).stdout.trim();
  const verified = await runCli(["verify", bundleFile, "--log-key", key, "--quiet"]);
  expect(verified.code, verified.stdout + verified.stderr).toBe(0);

  const status = await runCli(["consortium", "status", "--data", dataDir, "--json"]);
  expect(status.code, status.stderr).toBe(0);
  // The reading verbs recorded their reads through the serving node (docs/audit.md): the query
  // (110112), the FHIR export (110106, and 110101: AuditEvents leave with it), the bundle (110106).
  expect(JSON.parse(status.stdout)).toMatchObject({ logSize: before.size + 3 + 4 });
  expect(await logSize()).toBe(before.size + 3 + 4);
});

test("the serving node refuses what it would refuse locally, with the same codes and exit codes", async () => {
  // Decided by the node: an unknown study.
  const missing = await deidentifyForTrial("0".repeat(64), join(tmp.path, "never"));
  expect(missing.stderr).toContain("RECORD_NOT_FOUND");
  expect(missing.code).toBe(3);
  expect(existsSync(join(tmp.path, "never"))).toBe(false);
  // Refused before anything is sent: a malformed pseudonym.
  const bad = await runCli(["erase", "patient", "--data", dataDir, "--patient", "pt_nope"]);
  expect(bad.stderr).toContain("CLI_USAGE");
  expect(bad.code).toBe(2);
  // Reading verbs check their input too: an export for something that is not a pseudonym is no
  // empty bundle with exit 0.
  const fhir = await runCli(["export", "fhir", "--data", dataDir, "--patient", "Jane Doe"]);
  expect(fhir.stderr).toContain("CLI_USAGE");
  expect(fhir.code).toBe(2);
  expect(fhir.stdout).toBe("");
  // Erasing twice: the erasure is recorded once.
  const again = await runCli([
    "erase",
    "patient",
    "--data",
    dataDir,
    "--patient",
    patient,
    "--yes",
    "--json",
  ]);
  expect(again.code, again.stderr).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ recorded: false });
});

test("the local socket is the owner's alone, and is removed when the node stops", async () => {
  const socket = join(dataDir, "node.sock");
  expect(existsSync(socket)).toBe(true);
  expect(statSync(socket).mode & 0o777).toBe(0o600);
  await server.stop();
  expect(existsSync(socket)).toBe(false);
  // With no node serving, the same verb runs in its own process.
  const local = await runCli([
    "erase",
    "patient",
    "--data",
    dataDir,
    "--patient",
    patient,
    "--yes",
    "--json",
  ]);
  expect(local.code, local.stderr).toBe(0);
  const audit = await runCli(["verify", "--data", dataDir, "--quiet"]);
  expect(audit.code, audit.stdout + audit.stderr).toBe(0);
});
