/**
 * Bundles under attack: a single flipped byte anywhere — entries, inclusion proof, checkpoint, log signature,
 * witness cosignature, manifest, disclosures, files, instances, tar headers, padding, end marker —
 * must fail verification with a failure that names where, never pass and never crash (docs/design.md §3.9).
 * Then consistency: a bundle checked against a later checkpoint of its log passes; against a
 * forked log's checkpoint (same key, another history) it fails.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { concatBytes, toBase64, uint64BE } from "../../src/core/bytes.js";
import { parseCheckpointText, signCheckpoint, formatSignedCheckpoint } from "../../src/core/checkpoint.js";
import {
  formatSignedNote,
  parseSignedNote,
  noteKeyId,
  SIG_TYPE_COSIGNATURE_V1,
} from "../../src/core/note.js";
import { leafHash } from "../../src/core/merkle/hash.js";
import { consistencyProof, treeRoot } from "../../src/core/merkle/prove.js";
import { nodeHash } from "../../src/core/merkle/hash.js";
import { TAR_BLOCK, encodeTar, tarPadding } from "../../src/core/tar.js";
import { tarMembers } from "../../src/core/tar.js";
import { cosignatureMessage } from "../../src/core/bundle/cosignatures.js";
import { verifyBundle, type BundleMember, type BundleReport } from "../../src/core/bundle/verify.js";
import { payloadCatalog, prepareBundle } from "../../src/app/bundle-export.js";
import { nodeFactory } from "../../src/wiring/node.js";
import type { BundleRequest } from "../../src/domain/bundles/select.js";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";
import { seedBundleFixture, type BundleFixture } from "../helpers/bundle-fixture.js";
import { fakeHash } from "../helpers/fixtures.js";

let t: TestNode;
let fx: BundleFixture;
let work: { path: string; remove(): void };
let witnessVkey: string;
let cosigned: string;

const WITNESS = "witness.test.example/w1";

beforeAll(async () => {
  t = await makeNode();
  work = tempDir("radledger-tamper-");
  fx = await seedBundleFixture(t, join(work.path, "files"));
  // A witness cosigns the latest checkpoint (C2SP tlog-cosignature, Ed25519 type 0x04).
  const crypto = t.node.crypto;
  const seed = crypto.randomBytes(32);
  const pub = crypto.ed25519PublicKey(seed);
  const keyId = noteKeyId(crypto, WITNESS, SIG_TYPE_COSIGNATURE_V1, pub);
  witnessVkey = `${WITNESS}+${Buffer.from(keyId).toString("hex")}+${toBase64(concatBytes(new Uint8Array([4]), pub))}`;
  const note = parseSignedNote(t.node.store.latestCheckpoint()!.note);
  const time = 1_790_000_000;
  const sig = crypto.ed25519Sign(seed, cosignatureMessage(note.text, time));
  cosigned = formatSignedNote({
    text: note.text,
    signatures: [...note.signatures, { name: WITNESS, keyId, signature: concatBytes(uint64BE(time), sig) }],
  });
});
afterAll(async () => {
  await t.close();
  work.remove();
});

async function bundleBytes(request: BundleRequest, files: boolean): Promise<Uint8Array> {
  const payload = files ? await payloadCatalog(nodeFactory.crypto, fx.files) : undefined;
  const { members } = prepareBundle(t.node, request, {
    checkpoint: cosigned,
    ...(payload ? { payload } : {}),
  });
  const out: BundleMember[] = [];
  for await (const m of members) out.push(m);
  return encodeTar(out);
}

async function verifyBytes(
  bytes: Uint8Array,
  extra: { against?: { checkpoint: string; proof: Uint8Array[] } } = {},
): Promise<BundleReport> {
  async function* once(): AsyncGenerator<Uint8Array> {
    // Two chunks split at an odd place, as a stream would deliver them.
    const cut = Math.floor(bytes.length / 3) + 7;
    yield bytes.subarray(0, cut);
    yield bytes.subarray(cut);
  }
  return verifyBundle(tarMembers(once()), {
    crypto: t.node.crypto,
    logKeys: [t.node.verifierKey],
    witnessKeys: [witnessVkey],
    minWitnesses: 1,
    ...extra,
  });
}

interface Region {
  readonly kind: string;
  readonly path: string;
  readonly start: number;
  readonly end: number;
}

/** Byte regions of an archive: each member's header, content and padding, and the end marker. */
function regions(tar: Uint8Array, members: { path: string; size: number }[]): Region[] {
  const out: Region[] = [];
  let o = 0;
  for (const m of members) {
    const top = m.path.split("/")[0]!;
    out.push({ kind: "header", path: m.path, start: o, end: o + TAR_BLOCK });
    o += TAR_BLOCK;
    out.push({ kind: top, path: m.path, start: o, end: o + m.size });
    o += m.size;
    const pad = tarPadding(m.size).length;
    if (pad > 0) out.push({ kind: "padding", path: m.path, start: o, end: o + pad });
    o += pad;
  }
  out.push({ kind: "end", path: "", start: o, end: tar.length });
  return out;
}

/** Splits a checkpoint's bytes into body, log signature line and witness cosignature line. */
function checkpointRegions(r: Region, text: string): Region[] {
  const firstSig = text.indexOf("\n\n") + 2;
  const witnessLine = text.indexOf(`\u2014 ${WITNESS}`);
  const enc = (s: string): number => new TextEncoder().encode(s).length;
  return [
    { ...r, kind: "checkpoint-body", end: r.start + enc(text.slice(0, firstSig)) },
    {
      ...r,
      kind: "log-signature",
      start: r.start + enc(text.slice(0, firstSig)),
      end: r.start + enc(text.slice(0, witnessLine)),
    },
    { ...r, kind: "cosignature", start: r.start + enc(text.slice(0, witnessLine)) },
  ];
}

/** Where a failure for a flip in region r may legitimately point. */
function explains(r: Region, at: string | undefined, message: string): boolean {
  if (r.kind === "header" || r.kind === "padding" || r.kind === "end") {
    const m = /byte (\d+)/.exec(at ?? "");
    return m !== null && Number(m[1]) >= r.start && Number(m[1]) < r.end + TAR_BLOCK;
  }
  if (r.kind === "bundle.json") return true; // any check may be the first to notice a changed manifest
  const related = [r.path];
  // A changed checkpoint body also changes the root the inclusion proof must lead to.
  if (r.path === "checkpoint") related.push("inclusion-proof");
  if (r.path.startsWith("images/")) related.push(r.path.split("/").slice(0, 2).join("/") + "/");
  // "entries/1" must not match "entries/12:3000": a path ends where a digit does not follow.
  const mentions = (s: string, p: string): boolean =>
    new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "(?![0-9])").test(s);
  return related.some((p) => mentions(at ?? "", p) || mentions(message, p));
}

describe("bundles: tampering", () => {
  test("flipping any single byte fails verification with a failure naming the place (1,200 positions)", async () => {
    const cases: { bytes: Uint8Array; members: { path: string; size: number }[] }[] = [];
    for (const [request, files] of [
      [{ kind: "report", id: fx.report }, false],
      [{ kind: "dataset", id: fx.dataset }, true],
    ] as const) {
      const bytes = await bundleBytes(request, files);
      const good = await verifyBytes(bytes);
      expect(good.failures).toEqual([]);
      expect(good.checkpoint!.cosignatures).toMatchObject([{ witness: WITNESS, valid: true }]);
      const members: { path: string; size: number }[] = [];
      for await (const m of tarMembers([bytes])) members.push({ path: m.path, size: m.bytes.length });
      cases.push({ bytes, members });
    }
    // Sample every kind of region evenly, deterministically (a fixed-seed generator).
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const perKind = new Map<string, number>();
    let flips = 0;
    for (const { bytes, members } of cases) {
      let all = regions(bytes, members);
      all = all.flatMap((r) =>
        r.kind === "checkpoint"
          ? checkpointRegions(r, new TextDecoder().decode(bytes.subarray(r.start, r.end)))
          : [r],
      );
      const kinds = [...new Set(all.map((r) => r.kind))];
      for (let i = 0; i < 600; i++) {
        const kind = kinds[i % kinds.length]!;
        const candidates = all.filter((r) => r.kind === kind && r.end > r.start);
        const r = candidates[rand(candidates.length)]!;
        const pos = r.start + rand(r.end - r.start);
        const tampered = bytes.slice();
        tampered[pos] = tampered[pos]! ^ (1 + rand(255));
        const report = await verifyBytes(tampered);
        const where = `${r.kind} ${r.path} byte ${pos}`;
        expect(report.ok, where).toBe(false);
        expect(report.failures.length, where).toBeGreaterThan(0);
        for (const f of report.failures) {
          expect(f.code, where).not.toBe("INTERNAL");
          expect(f.message.length, where).toBeGreaterThan(10);
        }
        expect(
          report.failures.some((f) => explains(r, f.at, f.message)),
          `${where}: ${JSON.stringify(report.failures.slice(0, 3))}`,
        ).toBe(true);
        perKind.set(kind, (perKind.get(kind) ?? 0) + 1);
        flips++;
      }
    }
    expect(flips).toBeGreaterThanOrEqual(1000);
    for (const k of [
      "entries",
      "inclusion-proof",
      "checkpoint-body",
      "log-signature",
      "cosignature",
      "bundle.json",
      "disclosures",
      "files",
      "images",
      "header",
      "padding",
      "end",
    ])
      expect(perKind.get(k) ?? 0, k).toBeGreaterThan(20);
  });

  test("removing, adding or reordering files fails", async () => {
    const bytes = await bundleBytes({ kind: "report", id: fx.report }, false);
    const members: BundleMember[] = [];
    for await (const m of tarMembers([bytes])) members.push(m);
    const drop = await verifyBytes(encodeTar(members.filter((m) => m.path !== "inclusion-proof")));
    expect(drop.failures[0]!.code).toBe("BUNDLE_MALFORMED");
    const extra = await verifyBytes(
      encodeTar([...members, { path: "notes.txt", bytes: new Uint8Array([1]) }]),
    );
    expect(extra.failures[0]).toMatchObject({ code: "BUNDLE_MALFORMED", at: "notes.txt" });
    const swapped = [...members];
    [swapped[2], swapped[4]] = [swapped[4]!, swapped[2]!];
    expect((await verifyBytes(encodeTar(swapped))).ok).toBe(false);
    const truncated = await verifyBytes(bytes.subarray(0, bytes.length - 2000));
    expect(truncated.ok).toBe(false);
    expect(await verifyBytes(new Uint8Array(0))).toMatchObject({ ok: false });
  });

  test("too few witnesses, or a cosignature by a key you named that does not verify, fails", async () => {
    const bytes = await bundleBytes({ kind: "access", id: fx.patient }, false);
    const members: BundleMember[] = [];
    for await (const m of tarMembers([bytes])) members.push(m);
    const r = await verifyBundle(members, {
      crypto: t.node.crypto,
      logKeys: [t.node.verifierKey],
      witnessKeys: [witnessVkey],
      minWitnesses: 2,
    });
    expect(r.failures.map((f) => f.code)).toEqual(["BUNDLE_WITNESS_QUORUM"]);
    // Without the witness key the cosignature is reported, not trusted, and not required.
    const plain = await verifyBundle(members, { crypto: t.node.crypto, logKeys: [t.node.verifierKey] });
    expect(plain.ok).toBe(true);
    expect(plain.checkpoint!.unverifiedSignatures).toEqual([WITNESS]);
  });
});

describe("bundles: consistency with a later checkpoint", () => {
  test("against a later checkpoint of the same log it passes; against a forked log's checkpoint it fails", async () => {
    const crypto = t.node.crypto;
    const bytes = await bundleBytes({ kind: "trial", id: fx.trial }, false);
    const n = parseCheckpointText(parseSignedNote(cosigned).text).size;
    // The log grows.
    for (let i = 0; i < 5; i++)
      await t.node.appender.append(
        t.sign(t.admin, "ai.model.registered", {
          vendor: "Acme AI",
          name: `Model${i}`,
          version: "1.0.0",
          artifactHash: fakeHash(),
          intendedUse: "testing",
        }),
      );
    const later = t.node.store.latestCheckpoint()!;
    const ok = await verifyBytes(bytes, {
      against: { checkpoint: later.note, proof: t.node.ledger.tree.consistencyProof(n, later.size) },
    });
    expect(ok.failures).toEqual([]);
    expect(ok.against).toMatchObject({ size: later.size, consistent: true });

    // A fork: the same log key signs a tree that shares only the first n-3 entries.
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < n - 3; i++) leaves.push(leafHash(crypto, t.node.store.readEntry(i)!.bytes));
    for (let i = 0; i < 8; i++) leaves.push(leafHash(crypto, crypto.randomBytes(40)));
    const levels: Uint8Array[][] = [leaves];
    while (levels[levels.length - 1]!.length > 1) {
      const prev = levels[levels.length - 1]!;
      const next: Uint8Array[] = [];
      for (let i = 0; i + 1 < prev.length; i += 2) next.push(nodeHash(crypto, prev[i]!, prev[i + 1]!));
      levels.push(next);
    }
    const nodes = (level: number, index: number): Uint8Array => levels[level]![index]!;
    const forkSize = leaves.length;
    const forkCheckpoint = formatSignedCheckpoint(
      signCheckpoint(
        { origin: t.node.config.origin, size: forkSize, root: treeRoot(crypto, forkSize, nodes) },
        t.node.logKey,
      ),
    );
    const forked = await verifyBytes(bytes, {
      against: { checkpoint: forkCheckpoint, proof: consistencyProof(crypto, n, forkSize, nodes) },
    });
    expect(forked.ok).toBe(false);
    expect(forked.failures).toMatchObject([{ code: "ROOT_MISMATCH", at: "--against" }]);
    // An older checkpoint is no "later state".
    const older = await verifyBytes(bytes, {
      against: { checkpoint: t.node.store.checkpoints()[1]!.note, proof: [] },
    });
    expect(older.failures).toMatchObject([{ code: "TREE_SIZE_INVALID" }]);
  });
});
