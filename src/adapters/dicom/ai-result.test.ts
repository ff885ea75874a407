/**
 * The AI result reader (ai-result.ts, dataset-tree.ts) on synthetic objects that dcmtk — an
 * independent implementation — reads back the same way: dsrdump for the TID 1500 SR, dcmdump for
 * the SEG. Each kind, each way of naming the model, the clinician's objects that are not AI
 * results, and hostile input (a coded error, never a crash).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TS } from "../../../test/fixtures/dicom/dicom-writer.js";
import { makeAiResult, type AiResultSpec } from "../../../test/fixtures/dicom/make-ai-result.js";
import { makeStudy } from "../../../test/fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../../../test/fixtures/dicom/tools.js";
import { RadledgerError } from "../../core/errors.js";
import { mayBeAiResult, readAiResult } from "./ai-result.js";

const study = makeStudy({ seed: "ai-result-unit", series: 1, instancesPerSeries: 1, multiFrameFrames: 0 });
const acme = { vendor: "Acme AI", name: "LungNodule", version: "2.1.0" };
let dir: string;

beforeAll(() => {
  ensureDicomTools();
  dir = mkdtempSync(join(tmpdir(), "radledger-ai-result-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function written(spec: AiResultSpec): { bytes: Buffer; path: string } {
  const f = makeAiResult(study, spec);
  const path = join(dir, `${spec.seed}.dcm`);
  writeFileSync(path, f.bytes);
  return { bytes: f.bytes, path };
}

const tool = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: "utf8" });

describe("AI result objects", () => {
  it("reads a TID 1500 SR with TID 4019 algorithm identification, as dsrdump reads it", () => {
    const { bytes, path } = written({
      kind: "sr",
      seed: "sr-4019",
      ...acme,
      groups: 3,
      workitemUid: "2.25.42",
    });
    // dcmtk: a Comprehensive 3D SR whose root is the Imaging Measurement Report, with three
    // measurement groups naming the algorithm (codes printed with +Pc).
    const dump = tool("dsrdump", ["+Pc", path]);
    expect(dump).toContain("Comprehensive 3D SR Document");
    expect(dump).toContain('(126000,DCM,"Imaging Measurement Report")');
    expect(dump.match(/\(125007,DCM,"Measurement Group"\)/g)).toHaveLength(3);
    expect(dump).toContain('(111001,DCM,"Algorithm Name")="LungNodule"');
    expect(dump).toContain('(111003,DCM,"Algorithm Version")="2.1.0"');
    expect(readAiResult(bytes)).toEqual({
      kind: "sr",
      sopClassUid: "1.2.840.10008.5.1.4.1.1.88.34",
      sopInstanceUid: makeAiResult(study, { kind: "sr", seed: "sr-4019" }).sopInstanceUid,
      sourceStudyInstanceUid: study.studyInstanceUid,
      workitemUid: "2.25.42",
      identifiedBy: "algorithm-identification",
      ...acme,
      ambiguous: false,
      findingCount: 3,
    });
  });

  it("reads the device observer of an SR in Implicit VR Little Endian (sequences of defined length)", () => {
    const { bytes, path } = written({
      kind: "sr",
      seed: "sr-device",
      ...acme,
      identification: "device",
      transferSyntaxUid: TS.ImplicitLE,
    });
    const dump = tool("dsrdump", ["+Pc", path]);
    expect(dump).toContain('(121005,DCM,"Observer Type")=(121007,DCM,"Device")');
    expect(dump).toContain('(121015,DCM,"Device Observer Model Name")="LungNodule"');
    const r = readAiResult(bytes);
    expect(r).toMatchObject({ identifiedBy: "device-observer", ...acme, findingCount: 2 });
    expect(r?.workitemUid).toBeUndefined();
  });

  it("reads a SEG's algorithm segments, as dcmdump reads them", () => {
    const { bytes, path } = written({
      kind: "seg",
      seed: "seg",
      vendor: "Acme AI",
      name: "LungSeg",
      version: "1.0",
      segments: 4,
    });
    const dump = tool("dcmdump", [path]);
    expect(dump.match(/SegmentAlgorithmType/g)).toHaveLength(4);
    expect(dump).toContain("(0062,0009) LO [LungSeg]");
    expect(readAiResult(bytes)).toMatchObject({
      kind: "seg",
      identifiedBy: "segment-algorithm",
      vendor: "Acme AI",
      name: "LungSeg",
      version: "1.0",
      findingCount: 4,
      sourceStudyInstanceUid: study.studyInstanceUid,
    });
  });

  it("reads a Parametric Map's equipment", () => {
    const { bytes } = written({ kind: "pm", seed: "pm", vendor: "Acme AI", name: "ADCNet", version: "3.0" });
    expect(readAiResult(bytes)).toMatchObject({
      kind: "pm",
      identifiedBy: "equipment",
      name: "ADCNet",
      findingCount: 0,
    });
  });

  it("a clinician's measurement report and a manual segmentation are not AI results", () => {
    expect(readAiResult(written({ kind: "sr", seed: "sr-human", identification: "none" }).bytes)).toBeNull();
    const manual = written({ kind: "seg", seed: "seg-manual", algorithmType: "MANUAL" });
    expect(tool("dcmdump", [manual.path])).toContain("[MANUAL]");
    expect(readAiResult(manual.bytes)).toBeNull();
    expect(mayBeAiResult("1.2.840.10008.5.1.4.1.1.2")).toBe(false); // CT Image
    expect(readAiResult(study.instances[0]!.bytes)).toBeNull();
  });

  it("an AI result without a full algorithm identification is read as such (the intake refuses it)", () => {
    const r = readAiResult(written({ kind: "seg", seed: "seg-anon", vendor: "Acme AI" }).bytes);
    expect(r).toMatchObject({ kind: "seg", vendor: "Acme AI", ambiguous: false });
    expect(r?.name).toBeUndefined();
    expect(r?.version).toBeUndefined();
  });

  it("hostile input: truncations and corrupted bytes are coded errors, never a crash", () => {
    const { bytes } = written({ kind: "sr", seed: "sr-hostile", ...acme });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bytes.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        (at, v, cut) => {
          const b = cut ? bytes.subarray(0, at) : Buffer.from(bytes);
          if (!cut) b[at] = v;
          try {
            readAiResult(b);
          } catch (e) {
            expect(e).toBeInstanceOf(RadledgerError);
            expect((e as RadledgerError).code).toMatch(/^DICOM_/);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
