import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeStudy } from "../../../test/fixtures/dicom/make-study.js";
import { DicomError } from "./errors.js";
import { DicomHashPool } from "./hash-pool.js";
import { hashDicomFile, hashDicomFolder } from "./hasher.js";

describe("DicomHashPool (worker threads)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "radledger-pool-"));
    await writeStudy(dir, { seed: "pool", series: 2, instancesPerSeries: 3, multiFrameFrames: 2, rle: true });
    writeFileSync(join(dir, "readme.txt"), "not DICOM");
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives the same results as hashing on the main thread, errors included", async () => {
    const inThread = await hashDicomFolder(dir);
    const pooled = await hashDicomFolder(dir, { workers: 2 });
    expect(pooled.map((e) => e.path)).toEqual(inThread.map((e) => e.path));
    expect(pooled.map((e) => e.result)).toEqual(inThread.map((e) => e.result));
    const bad = pooled.find((e) => e.path.endsWith("readme.txt"));
    expect(bad?.error).toBeInstanceOf(DicomError);
    expect(bad?.error?.code).toBe("DICOM_NOT_PART10");
  });

  it("hashes single files and rejects after close", async () => {
    const pool = new DicomHashPool(1);
    try {
      const p = join(dir, "series-0", "instance-1.dcm");
      expect(await pool.hash(p)).toEqual(await hashDicomFile(p));
      await expect(pool.hash(join(dir, "missing.dcm"))).rejects.toMatchObject({ code: "DICOM_IO" });
    } finally {
      await pool.close();
    }
    await expect(pool.hash(join(dir, "series-0", "instance-1.dcm"))).rejects.toThrow(/closed/);
  });
});
