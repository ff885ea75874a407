import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Element, TS, part10, tag } from "../../../test/fixtures/dicom/dicom-writer.js";
import {
  SOP,
  fakeUid,
  makeInstance,
  makeStudy,
  syntheticPixels,
  writeStudy,
} from "../../../test/fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../../../test/fixtures/dicom/tools.js";
import { DicomError } from "./errors.js";
import { hashDicomFile, hashDicomFolder, hashDicomStream } from "./hasher.js";

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/** Feeds `bytes` to the hasher in chunks of the given sizes (cycled). */
function* chunked(bytes: Buffer, sizes: readonly number[]): Generator<Buffer> {
  let off = 0;
  let i = 0;
  while (off < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield bytes.subarray(off, off + n);
    off += n;
  }
}
const hashBytes = (bytes: Buffer, sizes: readonly number[] = [1 << 20]) =>
  hashDicomStream(chunked(bytes, sizes));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DicomError) return err.code;
    throw err;
  }
  return "NO_ERROR";
}

const study = makeStudy({
  seed: "hasher-test",
  series: 2,
  instancesPerSeries: 2,
  multiFrameFrames: 4,
  rle: true,
  exoticEncodings: true,
});

function instanceWith(ts: string, frames = 1) {
  return makeInstance({
    seed: "hasher-test",
    study,
    bodyPart: "HEAD",
    seriesIndex: 9,
    seriesUid: fakeUid("hasher-test", "series/9"),
    instanceNumber: 1,
    sopClassUid: frames > 1 ? SOP.MultiFrameGrayscaleWordSC : SOP.CTImage,
    sopInstanceUid: fakeUid("hasher-test", `ts/${ts}/${frames}`),
    transferSyntaxUid: ts,
    rows: 32,
    columns: 48,
    frames,
    frameOfReferenceUid: fakeUid("hasher-test", "for"),
    exotic: true,
  });
}

describe("hashDicomStream on synthetic instances", () => {
  it("covers both little-endian syntaxes, multi-frame and RLE", () => {
    const tss = new Set(study.instances.map((i) => i.transferSyntaxUid));
    expect(tss).toEqual(new Set([TS.ExplicitLE, TS.ImplicitLE, TS.RLE]));
    expect(study.instances.some((i) => i.numberOfFrames > 1 && i.transferSyntaxUid === TS.ExplicitLE)).toBe(
      true,
    );
  });

  for (const inst of study.instances) {
    it(`hashes ${inst.fileName} (${inst.transferSyntaxUid})`, async () => {
      const r = await hashBytes(inst.bytes);
      expect(r.fileSha256).toBe(sha(inst.bytes));
      expect(r.bytes).toBe(inst.bytes.length);
      expect(r.pixelDataSha256).toBe(inst.expectedPixelSha256);
      expect(r.frameSha256).toEqual(inst.expectedFrameSha256);
      expect(r.numberOfFrames).toBe(inst.numberOfFrames);
      expect(r.pixelDataEncapsulated).toBe(inst.transferSyntaxUid === TS.RLE);
      expect(r.transferSyntaxUid).toBe(inst.transferSyntaxUid);
      expect(r.sopClassUid).toBe(inst.sopClassUid);
      expect(r.sopInstanceUid).toBe(inst.sopInstanceUid);
      expect(r.seriesInstanceUid).toBe(inst.seriesInstanceUid);
      expect(r.studyInstanceUid).toBe(study.studyInstanceUid);
      expect(r.modality).toBe("CT");
      expect(r.bodyPartExamined).not.toBeNull();
      // The top-level Patient ID, not the one nested in Other Patient IDs Sequence or the UN blob.
      expect(r.patientId).toBe(study.patient.id);
    });
  }

  it("gives the same answer whatever the chunking (property)", async () => {
    const inst = study.instances.find((i) => i.transferSyntaxUid === TS.RLE && i.numberOfFrames > 1)!;
    const implicit = study.instances.find((i) => i.transferSyntaxUid === TS.ImplicitLE)!;
    const ref = await hashBytes(inst.bytes);
    const refImplicit = await hashBytes(implicit.bytes);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }),
        async (sizes) => {
          expect(await hashBytes(inst.bytes, sizes)).toEqual(ref);
          expect(await hashBytes(implicit.bytes, sizes)).toEqual(refImplicit);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("parses Explicit VR Big Endian; pixel hash is over the bytes as stored (swapped)", async () => {
    const inst = instanceWith(TS.ExplicitBE);
    const r = await hashBytes(inst.bytes, [4096]);
    expect(r.transferSyntaxUid).toBe(TS.ExplicitBE);
    expect(r.pixelDataSha256).toBe(inst.expectedPixelSha256);
    const le = syntheticPixels("hasher-test", "9/1", 32, 48);
    expect(r.pixelDataSha256).toBe(sha(Buffer.from(le).swap16()));
    expect(r.patientId).toBe(study.patient.id);
  });

  it("parses Deflated Explicit VR Little Endian via zlib; fileSha256 covers the compressed bytes", async () => {
    const inst = instanceWith(TS.Deflated, 3);
    const r = await hashBytes(inst.bytes, [777]);
    expect(r.fileSha256).toBe(sha(inst.bytes));
    expect(r.pixelDataSha256).toBe(inst.expectedPixelSha256);
    expect(r.frameSha256).toEqual(inst.expectedFrameSha256);
    expect(r.numberOfFrames).toBe(3);
  });

  it("reports DICOM_NOT_PART10 for non-DICOM input", async () => {
    expect(await codeOf(hashBytes(Buffer.from("just some text, not an image\n".repeat(20))))).toBe(
      "DICOM_NOT_PART10",
    );
    expect(await codeOf(hashBytes(Buffer.from("short")))).toBe("DICOM_NOT_PART10");
    expect(await codeOf(hashBytes(Buffer.alloc(0)))).toBe("DICOM_NOT_PART10");
  });

  it("reports DICOM_TRUNCATED for a file cut inside a header, a value, a sequence or the pixels", async () => {
    const inst = study.instances.find((i) => i.transferSyntaxUid === TS.ExplicitLE)!;
    const b = inst.bytes;
    const find = (g: number, e: number): number => {
      const needle = Buffer.alloc(4);
      needle.writeUInt16LE(g, 0);
      needle.writeUInt16LE(e, 2);
      return b.indexOf(needle, 132);
    };
    const cuts = [
      140, // inside the File Meta Information
      find(0x0008, 0x0018) + 3, // inside an element header
      find(0x0008, 0x0018) + 20, // inside a UID value
      find(0x0008, 0x1110) + 20, // inside an undefined-length sequence
      b.length - 1000, // inside the Pixel Data value
      b.length - 1,
    ];
    for (const cut of cuts) {
      expect(await codeOf(hashBytes(b.subarray(0, cut))), `cut at ${cut}`).toBe("DICOM_TRUNCATED");
    }
    const rle = study.instances.find((i) => i.transferSyntaxUid === TS.RLE)!.bytes;
    expect(await codeOf(hashBytes(rle.subarray(0, rle.length - 8)))).toBe("DICOM_TRUNCATED"); // no delimiter
  });

  it("any prefix cut inside the pixel value is DICOM_TRUNCATED (property)", async () => {
    const inst = study.instances.find((i) => i.numberOfFrames > 1 && i.transferSyntaxUid === TS.ExplicitLE)!;
    const pixelStart = inst.bytes.length - inst.numberOfFrames * 64 * 64 * 2;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: pixelStart - 11, max: inst.bytes.length - 1 }), async (cut) => {
        expect(await codeOf(hashBytes(inst.bytes.subarray(0, cut)))).toBe("DICOM_TRUNCATED");
      }),
      { numRuns: 50 },
    );
  });

  it("reports DICOM_UNSUPPORTED_TRANSFER_SYNTAX for an unknown transfer syntax", async () => {
    const bytes = part10({
      sopClassUid: SOP.CTImage,
      sopInstanceUid: "2.25.1",
      transferSyntaxUid: "1.2.3.4.5.6.7",
      dataSet: [{ tag: tag(0x0008, 0x0018), vr: "UI", value: "2.25.1" }],
    });
    expect(await codeOf(hashBytes(bytes))).toBe("DICOM_UNSUPPORTED_TRANSFER_SYNTAX");
  });

  it("reports DICOM_MISSING_ATTRIBUTE and DICOM_MALFORMED", async () => {
    const noStudy = part10({
      sopClassUid: SOP.CTImage,
      sopInstanceUid: "2.25.1",
      transferSyntaxUid: TS.ExplicitLE,
      dataSet: [{ tag: tag(0x0008, 0x0018), vr: "UI", value: "2.25.1" }],
    });
    expect(await codeOf(hashBytes(noStudy))).toBe("DICOM_MISSING_ATTRIBUTE");
    const badVr = Buffer.from(noStudy);
    badVr.write("\x01\x02", noStudy.length - 10, "latin1"); // clobber the VR of the last element
    expect(await codeOf(hashBytes(badVr))).toBe("DICOM_MALFORMED");
  });
});

describe("hostile input", () => {
  // Whatever the bytes, the reader either succeeds or throws a coded DicomError: never another
  // exception, never a hang (docs/design.md §3.9: malformed input gives a clear error, not a crash).
  const samples = [
    study.instances.find((i) => i.transferSyntaxUid === TS.ExplicitLE)!.bytes,
    study.instances.find((i) => i.transferSyntaxUid === TS.ImplicitLE)!.bytes,
    study.instances.find((i) => i.transferSyntaxUid === TS.RLE && i.numberOfFrames > 1)!.bytes,
    instanceWith(TS.Deflated, 2).bytes,
    instanceWith(TS.ExplicitBE).bytes,
  ];
  it("mutated files give a result or a DicomError (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        async (which, edits, cut) => {
          const b = Buffer.from(samples[which]!);
          // Bias edits towards the header region, where the structure lives.
          for (const [pos, val] of edits) b[132 + (pos % Math.min(b.length - 132, 1500))] = val;
          const input = cut === undefined ? b : b.subarray(0, cut % b.length);
          try {
            await hashBytes(input, [4096]);
          } catch (err) {
            expect(err).toBeInstanceOf(DicomError);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("huge declared lengths end as DICOM_TRUNCATED without allocating them", async () => {
    const b = Buffer.from(samples[0]!);
    const at = b.indexOf(Buffer.from("OW\0\0", "latin1"), 132); // Pixel Data (7FE0,0010) OW header
    b.writeUInt32LE(0xfffffff0, at + 4);
    expect(await codeOf(hashBytes(b))).toBe("DICOM_TRUNCATED");
  });

  it("a corrupt deflate stream is DICOM_MALFORMED", async () => {
    const b = Buffer.from(instanceWith(TS.Deflated).bytes);
    for (let i = b.length - 400; i < b.length - 200; i++) b[i] = 0xff;
    expect(["DICOM_MALFORMED", "DICOM_TRUNCATED"]).toContain(await codeOf(hashBytes(b)));
  });
});

describe("encapsulated Pixel Data frame boundaries (PS3.5 A.4)", () => {
  const JPEG_BASELINE = "1.2.840.10008.1.2.4.50";
  // Fake codestreams: only the start markers matter to the reader (it never decodes).
  const f1a = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(96, 1)]);
  const f1b = Buffer.alloc(50, 2); // continuation fragment of frame 1: no SOI marker
  const f2 = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xdb]), Buffer.alloc(60, 3)]);
  const frames = [sha(Buffer.concat([f1a, f1b])), sha(f2)];
  const all = sha(Buffer.concat([f1a, f1b, f2]));
  const item = (b: Buffer) => 8 + b.length;

  function file(ts: string, offsets: number[], fragments: Buffer[], extra: Element[] = []): Buffer {
    return part10({
      sopClassUid: SOP.MultiFrameGrayscaleWordSC,
      sopInstanceUid: "2.25.77",
      transferSyntaxUid: ts,
      dataSet: [
        { tag: tag(0x0008, 0x0016), vr: "UI", value: SOP.MultiFrameGrayscaleWordSC },
        { tag: tag(0x0008, 0x0018), vr: "UI", value: "2.25.77" },
        { tag: tag(0x0020, 0x000d), vr: "UI", value: "2.25.78" },
        { tag: tag(0x0020, 0x000e), vr: "UI", value: "2.25.79" },
        { tag: tag(0x0028, 0x0008), vr: "IS", value: "2" },
        // Icon Image Sequence with its own encapsulated Pixel Data: must not be taken for the image's.
        {
          tag: tag(0x0088, 0x0200),
          vr: "SQ",
          undefinedLength: true,
          value: [
            {
              undefinedLength: true,
              elements: [
                {
                  tag: tag(0x7fe0, 0x0010),
                  vr: "OB",
                  value: { offsets: [], fragments: [Buffer.alloc(10, 9)] },
                },
              ],
            },
          ],
        },
        ...extra,
        { tag: tag(0x7fe0, 0x0010), vr: "OB", value: { offsets, fragments } },
      ],
    });
  }

  it("finds JPEG frames by their SOI marker when the Basic Offset Table is empty", async () => {
    const r = await hashBytes(file(JPEG_BASELINE, [], [f1a, f1b, f2]), [13]);
    expect(r.pixelDataSha256).toBe(all);
    expect(r.frameSha256).toEqual(frames);
    expect(r.pixelDataBytes).toBe(f1a.length + f1b.length + f2.length);
  });

  it("uses the Basic Offset Table when present", async () => {
    const r = await hashBytes(file(TS.RLE, [0, item(f1a) + item(f1b)], [f1a, f1b, f2]));
    expect(r.frameSha256).toEqual(frames);
  });

  it("uses the Extended Offset Table (7FE0,0001) when the Basic one is empty", async () => {
    const eot = Buffer.alloc(16);
    eot.writeBigUInt64LE(0n, 0);
    eot.writeBigUInt64LE(BigInt(item(f1a) + item(f1b)), 8);
    const r = await hashBytes(
      file(TS.RLE, [], [f1a, f1b, f2], [{ tag: tag(0x7fe0, 0x0001), vr: "OB", value: eot }]),
    );
    expect(r.frameSha256).toEqual(frames);
  });

  it("reports frames as unknown (null) when fragments cannot be assigned to frames", async () => {
    const r = await hashBytes(file(TS.RLE, [], [f1a, f1b, f2]));
    expect(r.pixelDataSha256).toBe(all); // the all-frames hash is still defined
    expect(r.frameSha256).toBeNull();
  });

  it("rejects a fragment that is not an item", async () => {
    const ok = file(JPEG_BASELINE, [], [f2]);
    const bad = Buffer.from(ok);
    bad.writeUInt16LE(0x1234, bad.length - 8 - f2.length - 8); // clobber the fragment's item tag
    expect(await codeOf(hashBytes(bad))).toBe("DICOM_MALFORMED");
  });
});

describe("with dcmtk (Debian package dcmtk)", () => {
  let dir: string;
  beforeAll(async () => {
    ensureDicomTools();
    dir = mkdtempSync(join(tmpdir(), "radledger-dcmtk-"));
    await writeStudy(dir, { seed: "dcmtk-test", series: 2, instancesPerSeries: 1, multiFrameFrames: 3 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });

  for (const file of ["series-0/instance-1.dcm", "series-1/instance-1.dcm"]) {
    it(`dcmodify PatientName keeps the pixel hash and changes the file hash (${file})`, async () => {
      const p = join(dir, file);
      const before = await hashDicomFile(p);
      run("dcmodify", ["-nb", "-m", "(0010,0010)=CHANGED^BY^DCMODIFY", p]);
      const after = await hashDicomFile(p);
      expect(after.fileSha256).not.toBe(before.fileSha256);
      expect(after.pixelDataSha256).toBe(before.pixelDataSha256);
      expect(after.sopInstanceUid).toBe(before.sopInstanceUid);
      expect(run("dcmdump", ["+P", "0010,0010", p]).toString()).toContain("CHANGED^BY^DCMODIFY");
    });
  }

  it("dcmconv between Explicit/Implicit LE keeps the native pixel hash; Big Endian swaps it", async () => {
    const src = join(dir, "series-2/multiframe-1.dcm");
    const ref = await hashDicomFile(src);
    for (const [flag, ts] of [
      ["+ti", TS.ImplicitLE],
      ["+te", TS.ExplicitLE],
      ["+td", TS.Deflated],
    ] as const) {
      const out = join(dir, `conv${flag}.dcm`);
      run("dcmconv", [flag, src, out]);
      const r = await hashDicomFile(out);
      expect(r.transferSyntaxUid).toBe(ts);
      expect(r.pixelDataSha256).toBe(ref.pixelDataSha256);
      expect(r.frameSha256).toEqual(ref.frameSha256);
      expect(r.numberOfFrames).toBe(3);
    }
    const be = join(dir, "conv-be.dcm");
    run("dcmconv", ["+tb", src, be]);
    const r = await hashDicomFile(be);
    expect(r.transferSyntaxUid).toBe(TS.ExplicitBE);
    expect(r.pixelDataSha256).not.toBe(ref.pixelDataSha256);
  });

  it("dcmcrle output (encapsulated, one fragment per frame) hashes per frame", async () => {
    const src = join(dir, "series-2/multiframe-1.dcm");
    const out = join(dir, "rle.dcm");
    run("dcmcrle", [src, out]);
    const r = await hashDicomFile(out);
    expect(r.transferSyntaxUid).toBe(TS.RLE);
    expect(r.pixelDataEncapsulated).toBe(true);
    expect(r.frameSha256).toHaveLength(3);
    // Cross-check the fragments with dcmtk's own decoder: decoding back gives the native pixels.
    const back = join(dir, "rle-decoded.dcm");
    run("dcmdrle", [out, back]);
    expect((await hashDicomFile(back)).pixelDataSha256).toBe((await hashDicomFile(src)).pixelDataSha256);
  });

  it("our RLE encoder round-trips through dcmdrle", async () => {
    const rleStudy = makeStudy({ seed: "rle-rt", series: 0, multiFrameFrames: 2, rle: true });
    const inst = rleStudy.instances.find((i) => i.fileName.includes("rle-multiframe"))!;
    const p = join(dir, "ours-rle.dcm");
    writeFileSync(p, inst.bytes);
    const back = join(dir, "ours-rle-decoded.dcm");
    run("dcmdrle", [p, back]);
    const r = await hashDicomFile(back);
    // The instance is series 1 ("0 series" + multi-frame series 0 + RLE series 1), number 2.
    expect(r.pixelDataSha256).toBe(sha(syntheticPixels("rle-rt", "1/2", 64, 64, 2)));
  });

  it("hashDicomFolder reports non-DICOM files with their code and hashes the rest", async () => {
    writeFileSync(join(dir, "notes.txt"), "not dicom");
    const entries = await hashDicomFolder(dir);
    const bad = entries.find((e) => e.path.endsWith("notes.txt"));
    expect(bad?.error?.code).toBe("DICOM_NOT_PART10");
    expect(entries.filter((e) => e.result !== undefined).length).toBeGreaterThanOrEqual(3);
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("not dicom");
  });
});
