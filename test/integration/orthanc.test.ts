/**
 * The Orthanc client against a real Orthanc 1.10 with the DICOMweb plugin (Debian 12 packages),
 * started by scripts/services/orthanc.sh unless RADLEDGER_TEST_ORTHANC_URL points at one.
 * Needs the Debian packages orthanc, orthanc-dicomweb (the script installs them) and dcmtk.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANNEX_E_BASIC_PROFILE, annexEAction } from "../../src/adapters/dicom/annex-e.js";
import { OrthancError } from "../../src/adapters/dicom/errors.js";
import { hashDicomFile, hashDicomStream } from "../../src/adapters/dicom/hasher.js";
import { OrthancClient, type OrthancChange } from "../../src/adapters/orthanc/client.js";
import { TS } from "../fixtures/dicom/dicom-writer.js";
import { makeStudy, type SyntheticStudy } from "../fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../fixtures/dicom/tools.js";
import { dcmdump, type Dump } from "./dcmdump.js";
import { orthancForTests, type OrthancService } from "./orthanc-service.js";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

let service: OrthancService;
let client: OrthancClient;
let work: string;

beforeAll(async () => {
  ensureDicomTools(); // dcmdump, and orthanc + orthanc-dicomweb for orthanc.sh
  service = await orthancForTests();
  client = new OrthancClient({
    baseUrl: service.url,
    username: service.username,
    password: service.password,
  });
  work = await mkdtemp(join(tmpdir(), "radledger-orthanc-it-"));
});

afterAll(async () => {
  await service.stop();
  await rm(work, { recursive: true, force: true });
});

/** Follows /changes from `since` until `want` matches, bounded in time (no fixed sleeps). */
async function followChanges(
  since: number,
  want: (c: OrthancChange) => boolean,
  timeoutMs = 30_000,
): Promise<OrthancChange[]> {
  const seen: OrthancChange[] = [];
  let seq = since;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const page = await client.changes(seq, 100);
    seen.push(...page.Changes);
    seq = page.Last;
    if (seen.some(want)) return seen;
    // Nothing new yet: poll again shortly (this is the retry interval of a bounded poll).
    if (page.Done) await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`change not seen within ${timeoutMs} ms (${seen.length} changes read)`);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OrthancError) return err.code;
    throw err;
  }
  return "NO_ERROR";
}

/** The single part of a multipart/related answer (RFC 2387) with one body part. */
function singlePart(body: Buffer, contentType: string): Buffer {
  const m = /boundary=("?)([^";]+)\1/.exec(contentType);
  if (m === null) throw new Error("no boundary");
  const boundary = `--${m[2]!}`;
  const start = body.indexOf(boundary);
  const headersEnd = body.indexOf("\r\n\r\n", start);
  const end = body.indexOf(`\r\n${boundary}`, headersEnd);
  return body.subarray(headersEnd + 4, end);
}

describe("Orthanc client against a real Orthanc", () => {
  let study: SyntheticStudy;
  let studyId = "";
  const instanceIds = new Map<string, string>(); // SOP Instance UID → Orthanc ID

  it("talks to Orthanc 1.x with the DICOMweb plugin", async () => {
    const sys = await client.system();
    expect(sys.Version).toMatch(/^1\.\d+\.\d+/);
    const res = await fetch(`${service.url}/plugins/dicom-web`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${service.username}:${service.password}`).toString("base64")}`,
      },
    });
    expect(res.status).toBe(200);
    const plugin = (await res.json()) as { ID: string; Version: string };
    expect(plugin.ID).toBe("dicom-web");
  });

  it("uploads a synthetic study; /changes reports it, then StableStudy after StableAge", async () => {
    study = makeStudy({
      seed: `orthanc-it-${randomUUID()}`,
      series: 2,
      instancesPerSeries: 2,
      multiFrameFrames: 3,
      rle: true,
    });
    const since = await client.lastChangeSeq();
    for (const inst of study.instances) {
      const r = await client.uploadInstance(inst.bytes);
      expect(r.Status).toBe("Success");
      instanceIds.set(inst.sopInstanceUid, r.ID);
      studyId = r.ParentStudy;
    }
    // A duplicate store is acknowledged but creates no change (so registration must be idempotent).
    const dup = await client.uploadInstance(study.instances[0]!.bytes);
    expect(dup.Status).toBe("AlreadyStored");

    const feed = await followChanges(since, (c) => c.ChangeType === "StableStudy" && c.ID === studyId);
    const ours = new Set(instanceIds.values());
    expect(feed.filter((c) => c.ChangeType === "NewInstance" && ours.has(c.ID))).toHaveLength(
      study.instances.length,
    );
    const newStudy = feed.findIndex((c) => c.ChangeType === "NewStudy" && c.ID === studyId);
    const stable = feed.findIndex((c) => c.ChangeType === "StableStudy" && c.ID === studyId);
    expect(newStudy).toBeGreaterThanOrEqual(0);
    expect(stable).toBeGreaterThan(newStudy);
    const s = feed[stable]!;
    expect(s.ResourceType).toBe("Study");
    expect(s.Path).toBe(`/studies/${studyId}`);
    expect(s.Date).toMatch(/^\d{8}T\d{6}$/);
    for (let i = 1; i < feed.length; i++) expect(feed[i]!.Seq).toBeGreaterThan(feed[i - 1]!.Seq);
  });

  it("reads the study and its instances", async () => {
    const s = await client.study(studyId);
    expect(s.IsStable).toBe(true);
    expect(s.MainDicomTags.StudyInstanceUID).toBe(study.studyInstanceUid);
    expect(s.PatientMainDicomTags.PatientID).toBe(study.patient.id);
    const instances = await client.studyInstances(studyId);
    expect(instances).toHaveLength(study.instances.length);
    const bySop = new Map(instances.map((i) => [i.MainDicomTags.SOPInstanceUID, i]));
    for (const inst of study.instances)
      expect(bySop.get(inst.sopInstanceUid)?.FileSize).toBe(inst.bytes.length);
  });

  it("serves each instance file byte-for-byte as uploaded (streamed into the hasher)", async () => {
    for (const inst of study.instances) {
      const r = await hashDicomStream(await client.instanceFile(instanceIds.get(inst.sopInstanceUid)!));
      expect(r.fileSha256).toBe(sha(inst.bytes));
      expect(r.pixelDataSha256).toBe(inst.expectedPixelSha256);
      expect(r.frameSha256).toEqual(inst.expectedFrameSha256);
    }
  });

  it("DICOMweb: QIDO-RS answers application/dicom+json, WADO-RS multipart/related with the stored file", async () => {
    const auth = {
      Authorization: `Basic ${Buffer.from(`${service.username}:${service.password}`).toString("base64")}`,
    };
    const qido = await fetch(`${service.url}/dicom-web/studies?StudyInstanceUID=${study.studyInstanceUid}`, {
      headers: { ...auth, Accept: "application/dicom+json" },
    });
    expect(qido.status).toBe(200);
    expect(qido.headers.get("content-type")).toMatch(/^application\/dicom\+json/);
    const found = (await qido.json()) as Record<string, { Value?: unknown[] }>[];
    expect(found).toHaveLength(1);
    expect(found[0]!["0020000D"]?.Value?.[0]).toBe(study.studyInstanceUid);

    // WADO-RS (PS3.18 §10.4) of an Implicit VR LE instance. By default the plugin answers in
    // Explicit VR LE (transcoded: new file bytes, same pixel bytes); with transfer-syntax=* it
    // returns the file as stored, so a gatekeeper that hashes what it serves must ask for that.
    const inst = study.instances.find((i) => i.transferSyntaxUid === TS.ImplicitLE)!;
    const url = `${service.url}/dicom-web/studies/${study.studyInstanceUid}/series/${inst.seriesInstanceUid}/instances/${inst.sopInstanceUid}`;
    const retrieve = async (accept: string): Promise<Buffer> => {
      const res = await fetch(url, { headers: { ...auth, Accept: accept } });
      expect(res.status).toBe(200);
      const ct = res.headers.get("content-type") ?? "";
      expect(ct).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
      return singlePart(Buffer.from(await res.arrayBuffer()), ct);
    };
    const transcoded = await hashDicomStream([await retrieve('multipart/related; type="application/dicom"')]);
    expect(transcoded.transferSyntaxUid).toBe(TS.ExplicitLE);
    expect(transcoded.fileSha256).not.toBe(sha(inst.bytes));
    expect(transcoded.pixelDataSha256).toBe(inst.expectedPixelSha256);
    const asStored = await retrieve('multipart/related; type="application/dicom"; transfer-syntax=*');
    expect(sha(asStored)).toBe(sha(inst.bytes));
  });

  it("anonymizes per PS3.15 Annex E 2021b basic profile, keeping pixel data identical", async () => {
    const result = await client.anonymizeStudy(studyId, { dicomVersion: "2021b" });
    expect(result.Type).toBe("Study");
    expect(result.ID).not.toBe(studyId);
    expect(result.InstancesCount).toBe(study.instances.length);
    const anonInstances = await client.studyInstances(result.ID);
    expect(anonInstances).toHaveLength(study.instances.length);

    // Originals, dumped by dcmtk.
    const orig = new Map<string, { dump: Dump; pixel: string }>(); // key: series#/instance#
    for (const inst of study.instances) {
      const p = join(work, `orig-${inst.sopInstanceUid}.dcm`);
      await writeFile(p, inst.bytes);
      const dump = await dcmdump(p);
      orig.set(`${dump.top.get("(0020,0011)")}/${dump.top.get("(0020,0013)")}`, {
        dump,
        pixel: inst.expectedPixelSha256,
      });
    }
    const identifying = [
      study.patient.name,
      study.patient.id,
      study.patient.otherId,
      study.patient.birthDate,
      study.accessionNumber,
      study.institutionName,
      study.referringPhysicianName,
      study.studyInstanceUid,
      ...study.instances.flatMap((i) => [i.sopInstanceUid, i.seriesInstanceUid]),
      "PRIVATE NOTE",
      "Nowhere Lane",
      "SYNTH-CT-01",
      "OPERATOR^SYNTH",
      "PERFORMER^SYNTH",
    ];

    const uidMap = new Map<string, string>(); // original UID → anonymized UID, must be a function
    const mapUid = (from: string, to: string): void => {
      const prev = uidMap.get(from);
      if (prev !== undefined) expect(to, `UID ${from} mapped inconsistently`).toBe(prev);
      uidMap.set(from, to);
    };
    const checked = new Set<string>();
    const anonSop = new Map<string, string>(); // key → anonymized SOP Instance UID
    const anonRefs: { key: string; ref: string }[] = [];

    for (const a of anonInstances) {
      const p = join(work, `anon-${a.ID}.dcm`);
      const chunks: Buffer[] = [];
      for await (const c of await client.instanceFile(a.ID)) chunks.push(c as Buffer);
      await writeFile(p, Buffer.concat(chunks));
      const hashes = await hashDicomFile(p);
      const dump = await dcmdump(p);
      const key = `${dump.top.get("(0020,0011)")}/${dump.top.get("(0020,0013)")}`;
      const o = orig.get(key);
      expect(o, `anonymized instance ${key} has an original`).toBeDefined();
      // The point of hashing pixels separately (docs/design.md §8.1): same pixels before and after.
      expect(hashes.pixelDataSha256).toBe(o!.pixel);

      for (const s of identifying)
        expect(dump.text, `anonymized dump still contains "${s}"`).not.toContain(s);
      expect(dump.top.get("(0012,0062)")).toBe("YES"); // Patient Identity Removed
      expect(dump.top.get("(0012,0063)")).toContain("2021b"); // De-identification Method

      // Tag by tag against Table E.1-1, for every attribute of the original.
      for (const [tag, before] of o!.dump.top) {
        if (tag.startsWith("(0002,") && tag !== "(0002,0003)") continue; // meta header is rewritten
        const after = dump.top.get(tag);
        const action = annexEAction(tag);
        const what = `${tag} (${action ?? "not listed"})`;
        checked.add(`${tag} ${action ?? "-"}`);
        switch (action) {
          case undefined:
            expect(after, what).toBe(before); // the Basic Profile retains what it does not list
            break;
          case "X":
            expect(after, what).toBeUndefined();
            break;
          case "U":
            expect(after, what).toMatch(/^[0-9]+(\.[0-9]+)+$/);
            expect(after, what).not.toBe(before);
            mapUid(before, after!);
            break;
          case "D":
            expect(after, what).toBeDefined();
            expect(after, what).not.toBe("");
            expect(after, what).not.toBe(before);
            break;
          case "K":
            expect(after, what).toBe(before);
            break;
          default: // Z, X/Z, X/D, Z/D, X/Z/D, X/Z/U*, C: removed, emptied or replaced
            if (before !== "" && before !== "<SQ>") expect(after, what).not.toBe(before);
            break;
        }
      }
      anonSop.set(key, dump.top.get("(0008,0018)")!);
      const ref = /\(0008,1155\) UI \[([0-9.]+)\]/.exec(dump.text);
      if (ref !== null && dump.top.get("(0008,1140)") !== undefined) anonRefs.push({ key, ref: ref[1]! });
    }

    // U* in Referenced Image Sequence: the reference follows the referenced instance's new UID.
    expect(anonRefs.length).toBeGreaterThan(0);
    for (const { key, ref } of anonRefs) {
      const [series, n] = key.split("/");
      expect(ref).toBe(anonSop.get(`${series}/${Number(n) - 1}`));
    }
    // The Z/U attributes that matter most were really exercised.
    for (const t of [
      "(0010,0010) Z",
      "(0010,0020) Z",
      "(0010,0030) Z",
      "(0008,0050) Z",
      "(0008,0018) U",
      "(0020,000D) U",
    ]) {
      expect(checked, t).toContain(t);
    }
    expect(ANNEX_E_BASIC_PROFILE.length).toBeGreaterThan(400);

    const a = await client.study(result.ID);
    expect(a.MainDicomTags.StudyInstanceUID).not.toBe(study.studyInstanceUid);
    await client.deleteStudy(result.ID);
    expect(await codeOf(client.study(result.ID))).toBe("ORTHANC_NOT_FOUND");
  });

  it("deletes the study", async () => {
    await client.deleteStudy(studyId);
    expect(await codeOf(client.study(studyId))).toBe("ORTHANC_NOT_FOUND");
    expect(await codeOf(client.deleteStudy(studyId))).toBe("ORTHANC_NOT_FOUND");
  });

  it("maps failures to coded errors", async () => {
    const wrong = new OrthancClient({ baseUrl: service.url, username: service.username, password: "wrong" });
    expect(await codeOf(wrong.system())).toBe("ORTHANC_AUTH_FAILED");
    expect(await codeOf(new OrthancClient({ baseUrl: service.url }).changes())).toBe("ORTHANC_AUTH_FAILED");
    expect(await codeOf(client.study("00000000-00000000-00000000-00000000-00000000"))).toBe(
      "ORTHANC_NOT_FOUND",
    );
    expect(await codeOf(client.study("../system"))).toBe("ORTHANC_BAD_REQUEST");
    expect(await codeOf(client.uploadInstance(Buffer.from("not a DICOM file")))).toBe("ORTHANC_BAD_REQUEST");
    expect(
      await codeOf(
        client.anonymizeStudy("00000000-00000000-00000000-00000000-00000000", {
          dicomVersion: "1999" as "2021b",
        }),
      ),
    ).toMatch(/^ORTHANC_(NOT_FOUND|BAD_REQUEST)$/);
    // A port nobody listens on.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => {
          resolve(p);
        });
      });
    });
    const down = new OrthancClient({
      baseUrl: `http://127.0.0.1:${port}`,
      username: "u",
      password: "p",
      timeoutMs: 5000,
    });
    expect(await codeOf(down.changes())).toBe("ORTHANC_UNAVAILABLE");
  });
});
