/**
 * The archive follower's handling of AI results, on an in-memory archive (the real-Orthanc path is
 * test/integration/orthanc-ai-results.test.ts): the images are registered as the study and the AI SR
 * recorded, while an SR whose content is damaged — readable enough to hash (its content sequence has
 * a defined length, so the hasher skips it unread) but not to read — is reported as a failed AI
 * result with its code, and does not keep the study's images from being registered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveFollower } from "../../src/app/archive-follower.js";
import type { ImagingArchive } from "../../src/ports/imaging.js";
import { makeAiResult } from "../fixtures/dicom/make-ai-result.js";
import { makeStudy } from "../fixtures/dicom/make-study.js";
import { fakeHash } from "../helpers/fixtures.js";
import { makeNode, type TestNode } from "../helpers/node.js";

const lung = { vendor: "Acme AI", name: "LungNodule", version: "2.1.0" };
let t: TestNode;

beforeAll(async () => {
  t = await makeNode();
  await t.node.appender.append(
    t.sign(t.admin, "ai.model.registered", {
      ...lung,
      artifactHash: fakeHash(),
      intendedUse: "lung nodules",
    }),
  );
});
afterAll(async () => t.close());

/** One study-stable change; the study's instances are `files`. */
function memoryArchive(files: Map<string, Buffer>): ImagingArchive {
  return {
    feedKey: "memory",
    changes: async (since) =>
      since < 1
        ? { changes: [{ seq: 1, kind: "study-stable", resourceId: "study-1" }], done: true, last: 1 }
        : { changes: [], done: true, last: 1 },
    lastChangeSeq: async () => 1,
    studyInstances: async () => [...files.keys()],
    instanceFile: async (id) =>
      (async function* () {
        yield files.get(id)!;
      })(),
    anonymizeStudy: async () => {
      throw new Error("not used");
    },
    deleteStudy: async () => undefined,
  };
}

/** The SR with the VR of the first content item's first element overwritten (inside ContentSequence). */
function damaged(bytes: Buffer): Buffer {
  const b = Buffer.from(bytes);
  const contentSequence = b.indexOf(Buffer.from([0x40, 0x00, 0x30, 0xa7, 0x53, 0x51])); // (0040,A730) SQ
  const firstItem = b.indexOf(Buffer.from([0xfe, 0xff, 0x00, 0xe0]), contentSequence);
  b.write("??", firstItem + 8 + 4, "latin1"); // item header (8), then the element's tag (4), then its VR
  return b;
}

describe("the archive follower and AI results", () => {
  it("registers the images, records the AI SR, and reports an unreadable SR without failing the study", async () => {
    const study = makeStudy({ seed: "follower-ai", series: 1, instancesPerSeries: 2, multiFrameFrames: 0 });
    const files = new Map<string, Buffer>();
    study.instances.forEach((i, n) => files.set(`img-${n}`, i.bytes));
    files.set("sr-good", makeAiResult(study, { kind: "sr", seed: "follower-good", ...lung }).bytes);
    files.set(
      "sr-damaged",
      damaged(makeAiResult(study, { kind: "sr", seed: "follower-bad", ...lung }).bytes),
    );

    const r = await new ArchiveFollower(t.node, memoryArchive(files), { name: "memory" }).pass();
    expect(r.studies).toHaveLength(1);
    const e = r.studies[0]!;
    expect(e.status).toBe("registered");
    expect(e.outcome?.instanceCount).toBe(study.instances.length);
    expect(e.instanceErrors).toBeUndefined();
    expect(e.aiResults?.map((a) => [a.kind, a.status, a.error?.code])).toEqual([
      ["sr", "failed", "DICOM_MALFORMED"],
      ["sr", "recorded", undefined],
    ]);
  });
});
