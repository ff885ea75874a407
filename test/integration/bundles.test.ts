/**
 * Bundles end to end in one process: every kind is exported from a fixture log (with payloads from
 * the vault and from files on disk), written as a tar file and as a directory, and verified offline
 * with the log key alone — by node:crypto on worker threads and by the pure-JS suite the browser
 * uses; a verification stopped midway still reports all it established. Tampering, later and
 * forked checkpoints are in bundles-tamper.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { nobleCrypto } from "../../src/core/crypto-noble.js";
import { decodeTar, encodeTar, tarMembers } from "../../src/core/tar.js";
import { buildServer } from "../../src/api/server.js";
import { verifyBundle, type BundleMember } from "../../src/core/bundle/verify.js";
import { formatBundleReport } from "../../src/core/bundle/report.js";
import { inlineEntryChecker, type EntryChecker } from "../../src/core/bundle/entry-check.js";
import { inlineSignatureVerifier } from "../../src/core/bundle/signatures.js";
import { parseManifest } from "../../src/core/bundle/format.js";
import { decodeEntryBundle, encodeEntryBundle } from "../../src/core/tiles.js";
import {
  payloadCatalog,
  prepareBundle,
  writeBundleDirectory,
  writeBundleFile,
} from "../../src/app/bundle-export.js";
import { bundleDirectoryMembers, verifyBundlePath } from "../../src/app/bundle-verify.js";
import { bundleVerifier } from "../../src/wiring/bundle-verify.js";
import { nodeFactory } from "../../src/wiring/node.js";
import type { BundleRequest } from "../../src/domain/bundles/select.js";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";
import { seedBundleFixture, type BundleFixture } from "../helpers/bundle-fixture.js";
import { openAuthStore } from "../../src/wiring/auth.js";

let t: TestNode;
let fx: BundleFixture;
let work: { path: string; remove(): void };

beforeAll(async () => {
  t = await makeNode();
  work = tempDir("radledger-bundles-");
  fx = await seedBundleFixture(t, join(work.path, "files"));
});
afterAll(async () => {
  await t.close();
  work.remove();
});

async function collect(request: BundleRequest, withFiles = true): Promise<BundleMember[]> {
  const payload = withFiles ? await payloadCatalog(nodeFactory.crypto, fx.files) : undefined;
  const { members } = prepareBundle(t.node, request, payload ? { payload } : {});
  const out: BundleMember[] = [];
  for await (const m of members) out.push(m);
  return out;
}

describe("bundles: round trip of every kind", () => {
  test("a signed report: contributions, consultation, AI inference and disposition, sign-off, addendum, texts", async () => {
    const members = await collect({ kind: "report", id: fx.report }, false);
    const paths = members.map((m) => m.path);
    expect(paths[0]).toBe("bundle.json");
    expect(paths[1]).toBe("checkpoint");
    // Every text the report commits to is disclosed with its salt.
    expect(paths.filter((p) => p.startsWith("disclosures/"))).toHaveLength(fx.texts.length);
    const report = await verifyBundle(members, { crypto: t.node.crypto, logKeys: [t.node.verifierKey] });
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.log).toMatchObject({ keyPinned: true });
    expect(report.byType).toMatchObject({
      "institution.genesis": 1,
      "report.opened": 1,
      "report.contribution": 3,
      "consult.requested": 1,
      "consult.answered": 1,
      "report.signed": 1,
      "report.amended": 1,
      "ai.inference": 1,
      "ai.model.registered": 1,
      "ai.finding.disposition": 1,
      "study.registered": 1,
      "key.rotated": 1,
      "key.revoked": 1,
    });
    expect(report.byType["access.recorded"]).toBeUndefined();
    expect(report.findings.join(" ")).toContain("lists 4 contributions; all are in the bundle");
    expect(report.record).toMatchObject({ signedBy: ["rad-neuro"], consultations: 1, inferences: 1 });
    // The rotated key signed before the rotation, the new key after; the revoked key is shown as such.
    const neuroKeys = report.signers.filter((s) => s.actor === "rad-neuro");
    expect(neuroKeys.map((k) => k.status).sort()).toEqual(["active", "retired"]);
    expect(report.signers.find((s) => s.actor === "tech-1")).toMatchObject({
      status: "revoked",
      reason: "left",
    });
  });

  test("a whole trial and one subject: enrolment, timepoint with its de-identified instances, read and correction", async () => {
    for (const kind of ["trial", "trial-subject"] as const) {
      const members = await collect({ kind, id: kind === "trial" ? fx.trial : fx.subject });
      const report = await verifyBundle(members, { crypto: t.node.crypto, logKeys: [t.node.verifierKey] });
      expect(report.failures).toEqual([]);
      expect(report.record).toMatchObject({ subjects: 1, timepoints: 1, reads: 1, corrections: 1 });
      expect(report.payloads).toMatchObject({ imageSets: 1, instances: 3 });
      // A sponsor's bundle does not carry the source study (it would link the subject to the patient).
      expect(report.byType["study.registered"]).toBeUndefined();
      expect(report.externalRefs).toBe(1);
    }
  });

  test("a sealed dataset version: items, annotation file, vendor work, credit list, shares; completeness is proven", async () => {
    const members = await collect({ kind: "dataset", id: fx.dataset });
    const report = await verifyBundle(members, { crypto: t.node.crypto, logKeys: [t.node.verifierKey] });
    expect(report.failures).toEqual([]);
    expect(report.subject).toEqual({ id: fx.dataset, version: 1 });
    expect(report.byType).toMatchObject({
      "dataset.item.added": 2,
      "dataset.annotation.added": 1,
      "dataset.shared": 1,
    });
    expect(report.findings.join(" ")).toContain(
      "is complete: its 2 items and 1 annotations hash to the sealed manifest root",
    );
    expect(report.payloads).toMatchObject({ files: 1, imageSets: 1, instances: 2 });
    expect(report.record!.credit).toEqual([
      { actor: "ann-1", name: "A. Notator (ann-1)", items: 0, annotations: 1, vendor: 0 },
      { actor: "cur-1", name: "cur-1", items: 2, annotations: 0, vendor: 0 },
      { actor: "ven-1", name: "ven-1", items: 0, annotations: 0, vendor: 1 },
    ]);
  });

  test("a patient's access history: every decision, the grant and care behind permits, the break-glass review", async () => {
    const members = await collect({ kind: "access", id: fx.patient }, false);
    const report = await verifyBundle(members, { crypto: nobleCrypto, logKeys: [t.node.verifierKey] });
    expect(report.failures).toEqual([]);
    expect(report.record).toMatchObject({ accesses: 4, permits: 3, denies: 1, breakGlass: 1 });
    expect(report.byType).toMatchObject({ "consent.granted": 1, "care.assigned": 1, "access.reviewed": 1 });
  });

  test("tar file and directory forms verify with worker threads; standard tar lists and extracts the file", async () => {
    const { members } = prepareBundle(t.node, { kind: "report", id: fx.report });
    const file = join(work.path, "report.radledger.tar");
    await writeBundleFile(members, file);
    const report = await verifyBundlePath(bundleVerifier, file, {
      logKeys: [t.node.verifierKey],
      threads: 2,
    });
    expect(report.ok).toBe(true);
    const listing = execFileSync("tar", ["-tf", file], { encoding: "utf8" }).trim().split("\n");
    expect(listing.slice(0, 3)).toEqual(["bundle.json", "checkpoint", "entries/0"]);
    const extracted = join(work.path, "extracted");
    execFileSync("mkdir", [extracted]);
    execFileSync("tar", ["-xf", file, "-C", extracted]);
    expect(
      (await verifyBundlePath(bundleVerifier, extracted, { logKeys: [t.node.verifierKey], threads: 0 })).ok,
    ).toBe(true);
    // Our decoder reads the file byte for byte as written.
    expect(decodeTar(readFileSync(file)).map((m) => m.path)).toEqual(listing);
    // The directory writer gives the same verdict.
    const dir = join(work.path, "report-dir");
    await writeBundleDirectory(prepareBundle(t.node, { kind: "report", id: fx.report }).members, dir);
    const members2: BundleMember[] = [];
    for await (const m of bundleDirectoryMembers(dir)) {
      const parts: Uint8Array[] = [];
      if ("bytes" in m) parts.push(m.bytes);
      else for await (const c of m.chunks()) parts.push(c);
      members2.push({ path: m.path, bytes: new Uint8Array(Buffer.concat(parts)) });
    }
    expect(encodeTar(members2)).toEqual(new Uint8Array(readFileSync(file)));
  });

  test("without a trusted key the bundle is UNTRUSTED, not verified; with another log's key it fails", async () => {
    const members = await collect({ kind: "report", id: fx.report }, false);
    const unpinned = await verifyBundle(members, { crypto: t.node.crypto });
    // Consistent, but only with the key it carries: anyone could have made it.
    expect(unpinned).toMatchObject({ ok: false, trust: "untrusted", failures: [] });
    expect(unpinned.log).toMatchObject({ keyPinned: false, keySource: "bundle" });
    expect(unpinned.warnings[0]).toContain("--log-key");
    expect(formatBundleReport(unpinned)).toMatch(/^UNTRUSTED: report bundle/);
    const pinned = await verifyBundle(members, { crypto: t.node.crypto, logKeys: [t.node.verifierKey] });
    expect(pinned).toMatchObject({ ok: true, trust: "verified", log: { keySource: "log-key" } });
    const other = await makeNode();
    try {
      const wrong = await verifyBundle(members, { crypto: t.node.crypto, logKeys: [other.node.verifierKey] });
      expect(wrong.ok).toBe(false);
      // Both test logs share an origin: the key is simply not the bundle's.
      expect(wrong.failures[0]).toMatchObject({ code: "NOTE_NO_VALID_SIGNATURE", at: "bundle.json:logKey" });
    } finally {
      await other.close();
    }
  });

  test("the API route streams a bundle that verifies; bad requests, unknown records and refusals are problems", async () => {
    const app = buildServer(t.node, { auth: openAuthStore(t.dir) });
    const bearer = async (actor: string): Promise<Record<string, string>> => ({
      authorization: `Bearer ${(await app.radledger.auth.issueToken({ actor, kind: "api", ttlMs: 3600_000, createdBy: "test" })).token}`,
    });
    try {
      const curator = await bearer("cur-1");
      const patient = await bearer("pt-1");
      const auditor = await bearer("aud-1");
      const vendor = await bearer("ven-1");
      const res = await app.inject({
        url: `/api/v1/bundles/dataset/${fx.dataset}?version=1`,
        headers: curator,
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("application/x-tar");
      expect(res.headers["content-disposition"]).toContain(".radledger.tar");
      const report = await verifyBundle(tarMembers([new Uint8Array(res.rawPayload)]), {
        crypto: t.node.crypto,
        logKeys: [t.node.verifierKey],
      });
      expect(report.failures).toEqual([]);
      expect(report.subject).toEqual({ id: fx.dataset, version: 1 });
      // A report bundle is decided by the gatekeeper and recorded as an export (here: the patient):
      // the access (action export) and the node's 110106 Export event (issue 21 §3).
      const sizeBefore = t.node.ledger.size;
      const noText = await app.inject({
        url: `/api/v1/bundles/report/${fx.report}?disclose=false`,
        headers: patient,
      });
      expect(noText.statusCode).toBe(200);
      expect(t.node.ledger.size).toBe(sizeBefore + 2);
      expect(
        decodeTar(new Uint8Array(noText.rawPayload)).some((m) => m.path.startsWith("disclosures/")),
      ).toBe(false);
      const problems = [
        [`/api/v1/bundles/report/${fx.report}`, {}, 401, "AUTH_REQUIRED"],
        [`/api/v1/bundles/report/${fx.report}`, vendor, 403, "ACCESS_DENIED"],
        [`/api/v1/bundles/dataset/${fx.dataset}`, patient, 403, "FORBIDDEN_ROLE"],
        [`/api/v1/bundles/access/${fx.patient}`, vendor, 403, "FORBIDDEN_ROLE"],
        [`/api/v1/bundles/nope/${fx.report}`, auditor, 400, "BUNDLE_KIND_UNKNOWN"],
        [`/api/v1/bundles/report/${"0".repeat(64)}`, auditor, 404, "RECORD_NOT_FOUND"],
        [`/api/v1/bundles/dataset/${fx.dataset}?version=x`, curator, 400, "INPUT_INVALID"],
        [`/api/v1/bundles/access/${"%00".repeat(3)}`, auditor, 404, "RECORD_NOT_FOUND"],
      ] as const;
      const auditorRead = await app.inject({ url: `/api/v1/bundles/access/${fx.patient}`, headers: auditor });
      expect(auditorRead.statusCode).toBe(200);
      for (const [url, headers, status, code] of problems) {
        const r = await app.inject({ url, headers });
        expect(r.statusCode, url).toBe(status);
        expect(r.json(), url).toMatchObject({ code });
      }
      // The verifier is a page of the web app (a browser asks for HTML) and a standalone download.
      const page = await app.inject({ url: "/verify", headers: { accept: "text/html" } });
      expect(page.statusCode).toBe(200);
      expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
      const standalone = await app.inject({ url: "/verifier.html" });
      expect(standalone.body).toContain("Verify a radledger bundle");
    } finally {
      await app.close();
    }
  });

  test("files that match nothing the entries commit to are refused for export", async () => {
    await expect(collect({ kind: "report", id: fx.report })).rejects.toMatchObject({
      code: "BUNDLE_PAYLOAD_UNMATCHED",
    });
  });

  test("unknown kinds and records are refused with codes", async () => {
    expect(() => prepareBundle(t.node, { kind: "study", id: fx.report })).toThrow(
      expect.objectContaining({ code: "BUNDLE_KIND_UNKNOWN" }),
    );
    expect(() => prepareBundle(t.node, { kind: "report", id: fx.trial })).toThrow(
      expect.objectContaining({ code: "RECORD_NOT_FOUND" }),
    );
    expect(() => prepareBundle(t.node, { kind: "dataset", id: fx.dataset, version: 2 })).toThrow(
      expect.objectContaining({ code: "RECORD_NOT_FOUND" }),
    );
  });
});

describe("bundles: a verification stopped midway", () => {
  /** The report bundle with entry 1's signature spoilt (one bit), and what its entries/0 file is. */
  async function spoilt(): Promise<{ members: BundleMember[]; at: string }> {
    const members = await collect({ kind: "report", id: fx.report }, false);
    const k = members.findIndex((m) => m.path === "entries/0");
    const list = decodeEntryBundle(members[k]!.bytes);
    const text = new TextDecoder().decode(list[1]);
    const sig = /"sig":"([^"]+)"/.exec(text)![1]!;
    const bytes = Buffer.from(sig, "base64");
    bytes[5]! ^= 1;
    list[1] = new TextEncoder().encode(text.replace(sig, bytes.toString("base64")));
    members[k] = { path: "entries/0", bytes: encodeEntryBundle(list) };
    return { members, at: `entries/0:${parseManifest(members[0]!.bytes).entries[1]!}` };
  }

  test("the archive ends in the payloads while a signature batch is out: the report has what was read, and the verdict", async () => {
    const { members, at } = await spoilt();
    const complete = await verifyBundle(members, { crypto: t.node.crypto, logKeys: [t.node.verifierKey] });
    expect(complete.failures[0]).toMatchObject({ code: "ENTRY_BAD_SIGNATURE", at });
    // Stop after the first disclosure; the entry checker answers only after the stop.
    const first = members.findIndex((m) => m.path.startsWith("disclosures/"));
    const missing = members[first + 1]!.path;
    expect(missing).toMatch(/^disclosures\//);
    const inline = inlineEntryChecker(inlineSignatureVerifier(t.node.crypto));
    let closed = 0;
    const late: EntryChecker = {
      parallelism: 1,
      async check(tasks) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return inline.check(tasks);
      },
      async close() {
        closed++;
      },
    };
    const report = await verifyBundle(members.slice(0, first + 1), {
      crypto: t.node.crypto,
      logKeys: [t.node.verifierKey],
      entryChecker: () => late,
    });
    expect(closed).toBe(1);
    expect(report).toEqual({
      ok: false,
      trust: "failed",
      kind: "report",
      subject: complete.subject,
      log: complete.log,
      checkpoint: complete.checkpoint,
      entries: complete.entries,
      byType: {},
      signers: [],
      payloads: { disclosures: 1, files: 0, imageSets: 0, instances: 0, bytes: members[first]!.bytes.length },
      externalRefs: 0,
      findings: [],
      warnings: [],
      failures: [
        {
          code: "ENTRY_BAD_SIGNATURE",
          message: `${at}: the signature does not verify with the key its enrolment binds`,
          at,
        },
        {
          code: "BUNDLE_INCOMPLETE",
          message: `${missing} is missing: the bundle ends after ${first + 1} files`,
          at: missing,
        },
      ],
      moreFailures: 0,
    });
  });

  test("a stage that throws: the report has the failures found before it, the throw, and the counts", async () => {
    const { members, at } = await spoilt();
    // Batches of one entry: the spoilt entry's signature is sent out before the progress callback
    // throws at the end of entries/0, and its verdict is recorded before the report is built.
    const report = await verifyBundle(members, {
      crypto: t.node.crypto,
      logKeys: [t.node.verifierKey],
      batchSize: 1,
      onProgress: () => {
        throw new Error("the progress display is gone");
      },
    });
    const complete = await verifyBundle(members, { crypto: t.node.crypto, logKeys: [t.node.verifierKey] });
    expect(report).toEqual({
      ok: false,
      trust: "failed",
      kind: "report",
      subject: complete.subject,
      log: complete.log,
      checkpoint: complete.checkpoint,
      entries: complete.entries,
      byType: {},
      signers: [],
      payloads: { disclosures: 0, files: 0, imageSets: 0, instances: 0, bytes: 0 },
      externalRefs: 0,
      findings: [],
      warnings: [],
      failures: [
        {
          code: "ENTRY_BAD_SIGNATURE",
          message: `${at}: the signature does not verify with the key its enrolment binds`,
          at,
        },
        { code: "BUNDLE_MALFORMED", message: "bundle: the progress display is gone", at: "bundle" },
      ],
      moreFailures: 0,
    });
  });
});
