/**
 * Folder ingest end to end: synthetic studies with realistic patient tags on disk, registered by
 * the library function and by the built CLI; idempotent; junk reported and skipped; no PHI on the
 * ledger; per-instance hashes in the manifest store.
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestRootOf } from "../../src/core/merkle/manifest.js";
import { nodeCrypto } from "../../src/adapters/node-crypto/crypto.js";
import { ingestPaths } from "../../src/app/ingest.js";
import { fromUtf8 } from "../../src/core/bytes.js";
import { listStudies } from "../../src/domain/imaging/queries.js";
import { runCli } from "../helpers/cli.js";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";
import { writeStudy, type SyntheticStudy } from "../fixtures/dicom/make-study.js";
import { createHash } from "node:crypto";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

let t: TestNode;
let dir: { path: string; remove(): void };
let a: SyntheticStudy;
let b: SyntheticStudy;

beforeAll(async () => {
  t = await makeNode();
  dir = tempDir("radledger-ingest-");
  a = await writeStudy(join(dir.path, "in", "a"), {
    seed: "ingest-a",
    series: 2,
    instancesPerSeries: 2,
    rle: true,
  });
  b = await writeStudy(join(dir.path, "in", "b"), { seed: "ingest-b", series: 1, instancesPerSeries: 2 });
  await writeFile(join(dir.path, "in", "notes.txt"), "not a DICOM file\n");
  await writeFile(join(dir.path, "in", "truncated.dcm"), a.instances[0]!.bytes.subarray(0, 400));
  await mkdir(join(dir.path, "in", "copy"));
  await copyFile(
    join(dir.path, "in", "a", a.instances[0]!.fileName),
    join(dir.path, "in", "copy", "dup.dcm"),
  );
});

afterAll(async () => {
  await t.close();
  dir.remove();
});

describe("radledger ingest", () => {
  it("registers each study once, signed by the institution, and skips what is not DICOM", async () => {
    const seen: number[] = [];
    const s = await ingestPaths(t.node, [join(dir.path, "in")], {
      workers: 2,
      onProgress: (p) => seen.push(p.files),
    });
    expect(s.files).toBe(a.instances.length + b.instances.length + 3);
    expect(s.instances).toBe(a.instances.length + b.instances.length);
    expect(s.duplicates).toBe(1);
    expect(s.skipped.map((x) => [x.path.split("/").pop(), x.code]).sort()).toEqual([
      ["notes.txt", "DICOM_NOT_PART10"],
      ["truncated.dcm", "DICOM_TRUNCATED"],
    ]);
    expect(seen.at(-1)).toBe(s.files);
    expect(s.studies.map((x) => x.status)).toEqual(["registered", "registered"]);

    const studies = listStudies(t.node.store).items;
    expect(studies).toHaveLength(2);
    const byCount = new Map(studies.map((d) => [d.instanceCount, d]));
    const docA = byCount.get(a.instances.length)!;
    expect(docA.manifestRoot).toBe(
      manifestRootOf(
        nodeCrypto,
        a.instances.map((i) => sha(i.bytes)),
      ),
    );
    expect(docA.modalities).toEqual(["CT"]);
    expect(docA.registeredBy).toBe("institution");

    // Nothing identifying on the ledger: no Patient ID, name, birth date, accession number or UID.
    for (let i = 0; i < t.node.ledger.size; i++) {
      const text = fromUtf8(t.node.store.readEntry(i)!.bytes);
      for (const st of [a, b])
        for (const phi of [
          st.patient.id,
          st.patient.name,
          st.patient.birthDate,
          st.accessionNumber,
          st.studyInstanceUid,
        ])
          expect(text).not.toContain(phi);
    }
    // Per-instance hashes stay in the node's manifest store.
    const store = t.node.manifests;
    const row = store.studyById(docA.id)!;
    expect(row.manifestRoot).toBe(docA.manifestRoot);
    const rows = store.instances(row.studyKey);
    expect(rows.map((r) => r.pixelSha256).sort()).toEqual(
      a.instances.map((i) => i.expectedPixelSha256).sort(),
    );
    expect(rows.every((r) => r.path !== null)).toBe(true);
  });

  it("re-ingesting is idempotent: already registered, not an error", async () => {
    const size = t.node.ledger.size;
    const s = await ingestPaths(t.node, [join(dir.path, "in", "b"), join(dir.path, "in", "a")], {
      workers: 1,
    });
    expect(s.studies.map((x) => [x.status, x.differs])).toEqual([
      ["already-registered", false],
      ["already-registered", false],
    ]);
    expect(t.node.ledger.size).toBe(size);
    // Part of a registered study: still "already registered", flagged as a different set.
    const part = await ingestPaths(t.node, [join(dir.path, "in", "b", b.instances[0]!.fileName)], {
      workers: 1,
    });
    expect(part.studies).toMatchObject([{ status: "already-registered", differs: true }]);
  });

  it("the CLI prints a summary and exits 0; a missing path is reported, not fatal", async () => {
    const c = tempDir("radledger-ingest-cli-");
    try {
      const data = join(c.path, "data");
      expect((await runCli(["init", "--data", data, "--origin", "cli.example/log"])).code).toBe(0);
      const r = await runCli([
        "ingest",
        "--data",
        data,
        "--workers",
        "1",
        join(dir.path, "in", "b"),
        join(c.path, "nope"),
      ]);
      expect(r.stderr).toContain("DICOM_IO");
      expect(r.stdout).toMatch(/1 studies registered, 0 already registered, 0 failed/);
      expect(r.code).toBe(0);
      const again = await runCli(["ingest", "--data", data, "--json", join(dir.path, "in", "b")]);
      expect(again.code).toBe(0);
      expect((JSON.parse(again.stdout) as { studies: { status: string }[] }).studies[0]!.status).toBe(
        "already-registered",
      );
    } finally {
      c.remove();
    }
  });
});
