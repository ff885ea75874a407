/**
 * File de-identification (PS3.15 Annex E Basic Profile, Table E.1-1) checked tag by tag with dcmtk's
 * dcmdump — an implementation independent of ours — over every transfer syntax the synthetic
 * writer produces; pixel-data and per-frame hashes must be unchanged.
 */
import { createHash, randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { annexEAction } from "../../src/adapters/dicom/annex-e.js";
import { deidentifyFile } from "../../src/adapters/dicom/deidentify.js";
import { hashDicomFile } from "../../src/adapters/dicom/hasher.js";
import { TS } from "../fixtures/dicom/dicom-writer.js";
import { fakeUid, makeInstance, makeStudy, SOP } from "../fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../fixtures/dicom/tools.js";
import { tempDir } from "../helpers/node.js";
import { dcmdump } from "./dcmdump.js";

const dir = tempDir("radledger-deid-file-");
beforeAll(() => ensureDicomTools());
afterAll(() => dir.remove());

/** Consistent within one run, like the app's keyed mapping. */
function uidMapper(): (u: string) => string {
  const salt = randomUUID();
  return (u) =>
    `2.25.${BigInt(
      "0x" +
        createHash("sha256")
          .update(salt + u)
          .digest("hex")
          .slice(0, 30),
    ).toString()}`;
}

describe("deidentifyFile", () => {
  const seed = `deid-file-${randomUUID()}`;
  const study = makeStudy({ seed, series: 2, instancesPerSeries: 2, rle: true, exoticEncodings: true });
  const base = {
    seed,
    study,
    bodyPart: "CHEST",
    rows: 16,
    columns: 16,
    frames: 1,
    frameOfReferenceUid: fakeUid(seed, "for"),
    seriesIndex: 9,
    seriesUid: fakeUid(seed, "s9"),
    sopClassUid: SOP.CTImage,
  };
  const extra = [TS.ExplicitBE, TS.Deflated].map((ts, i) => ({
    ...makInst(ts, i),
    fileName: `extra-${i}.dcm`,
  }));
  function makInst(ts: string, i: number) {
    return makeInstance({
      ...base,
      instanceNumber: 10 + i,
      sopInstanceUid: fakeUid(seed, `x${i}`),
      transferSyntaxUid: ts,
    });
  }
  const all = [...study.instances, ...extra];

  it("keeps no Annex E identifying attribute, keeps the pixel data, and is read back by dcmtk", async () => {
    const uid = uidMapper();
    const replace = new Map([
      [0x00100020, "ts_SUBJECT"],
      [0x00100010, "ts_SUBJECT"],
    ]);
    const newSop = new Map<string, string>();
    for (const [n, inst] of all.entries()) {
      const src = join(dir.path, `in-${n}.dcm`);
      const dst = join(dir.path, `out-${n}.dcm`);
      await writeFile(src, inst.bytes);
      await deidentifyFile(src, dst, { uid, replace, method: "PS3.15-2021b E.1-1 Basic Profile" });
      const before = await dcmdump(src);
      const after = await dcmdump(dst);
      const h0 = await hashDicomFile(src);
      const h1 = await hashDicomFile(dst);
      expect(h1.pixelDataSha256, inst.transferSyntaxUid).toBe(h0.pixelDataSha256);
      expect(h1.frameSha256).toEqual(h0.frameSha256);
      expect(h1.patientIdentityRemoved).toBe(true);
      expect(h1.patientId).toBe("ts_SUBJECT");
      expect(after.top.get("(0012,0062)")).toBe("YES");
      expect(after.text).toContain("113100");
      for (const phi of [
        study.patient.name,
        study.patient.id,
        study.patient.otherId,
        study.patient.birthDate,
        study.accessionNumber,
        study.institutionName,
        study.referringPhysicianName,
        study.studyInstanceUid,
        inst.sopInstanceUid,
        inst.seriesInstanceUid,
        "Nowhere Lane",
        "PRIVATE NOTE",
        "OPERATOR^SYNTH",
        "PERFORMER^SYNTH",
        "SYNTH-CT-01",
        "NESTED-ID",
      ])
        expect(after.text, `${inst.transferSyntaxUid} still holds ${phi}`).not.toContain(phi);
      for (const [tag, value] of before.top) {
        if (tag.startsWith("(0002,") || tag === "(0010,0010)" || tag === "(0010,0020)") continue;
        const a = after.top.get(tag);
        const action = annexEAction(tag);
        const what = `${inst.transferSyntaxUid} ${tag} ${action ?? "kept"}`;
        if (action === undefined) expect(a, what).toBe(value);
        else if (action === "X") expect(a, what).toBeUndefined();
        else if (action === "U") {
          expect(a, what).toMatch(/^2\.25\.\d+$/);
          expect(a).toBe(uid(value));
        } else if (value !== "" && value !== "<SQ>") expect(a, what).not.toBe(value);
      }
      newSop.set(inst.sopInstanceUid, after.top.get("(0008,0018)")!);
      // The meta header follows the new SOP Instance UID.
      expect(after.top.get("(0002,0003)")).toBe(after.top.get("(0008,0018)"));
    }
    // References inside sequences follow the referenced instance's new UID (X/Z/U* then U).
    expect(new Set(newSop.values()).size).toBe(all.length);
  });
});
