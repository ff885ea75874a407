/**
 * Hostile bundles (issue 19, finding 4; docs/bundle-format.md §4.2): the verifier's memory does not
 * grow with a member's size, and it refuses what a bundle never holds instead of following or
 * opening it.
 *
 *  - a bundle whose file payload is 600 MB (RADLEDGER_HOSTILE_MEMBER_MB to change; ≥ 256 in CI) is
 *    verified by the CLI in its own process with its peak RSS (VmHWM from /proc/<pid>/status,
 *    sampled while it runs) under 300 MB: the member is hashed as it streams by;
 *  - a bundle directory whose file is a symlink to /dev/zero, or a FIFO, or whose `entries` folder
 *    or checkpoint is a link out of the directory, is refused quickly, naming the path
 *    (BUNDLE_MEMBER_NOT_REGULAR) — the CLI runs under a watchdog (time and RSS) so that the unfixed
 *    verifier, which read /dev/zero without end and blocked on the FIFO, fails instead of hanging;
 *  - a tar whose member is a symlink, hard link, device or FIFO, whose member name climbs out with
 *    `..` or is absolute, that declares more than it holds, or that is truncated, is refused with
 *    BUNDLE_MALFORMED naming what it is and the byte;
 *  - a structured file beyond its bound (a 2 MiB checkpoint) is BUNDLE_MEMBER_TOO_LARGE.
 *
 * RADLEDGER_HOSTILE_KEEP=/path/big.tar keeps the large bundle (and its log key beside it) for
 * measuring by hand.
 */
import { inferenceBody } from "../helpers/report-scene.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { spawn, execFileSync } from "node:child_process";
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";
import { CLI } from "../helpers/cli.js";
import { fakeHash, fakePseudonym, studyBody } from "../helpers/fixtures.js";
import { prepareBundle } from "../../src/app/bundle-export.js";
import { verifyBundlePath } from "../../src/app/bundle-verify.js";
import { bundleVerifier } from "../../src/wiring/bundle-verify.js";
import { encodeManifest, filePath, parseManifest, MANIFEST_PATH } from "../../src/core/bundle/format.js";
import { encodeTar, TAR_BLOCK, tarEnd, tarHeader, tarPadding } from "../../src/core/tar.js";
import type { BundleMember, BundleReport } from "../../src/core/bundle/verify.js";

const MEMBER_MB = Number(process.env.RADLEDGER_HOSTILE_MEMBER_MB ?? 600);
const RSS_LIMIT_MB = 300;

let t: TestNode;
let work: { path: string; remove(): void };
/** The record's members (no payload), with the manifest naming the large file. */
let members: BundleMember[];
/** The record's members as exported (no payload named). */
let plainMembers: BundleMember[];
let bigHash: string;
let bigTar: string;

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** SHA-256 of `n` zero bytes, computed in slices (the test process holds no 600 MB buffer either). */
function zerosHash(n: number): string {
  const h = createHash("sha256");
  const slice = new Uint8Array(4 * 1024 * 1024);
  for (let left = n; left > 0; left -= slice.length)
    h.update(left >= slice.length ? slice : slice.subarray(0, left));
  return h.digest("hex");
}

beforeAll(async () => {
  t = await makeNode();
  work = tempDir("radledger-hostile-");
  const size = MEMBER_MB * 1024 * 1024;
  bigHash = zerosHash(size);
  // A report whose AI model's artifact is the large file: the bundle carries the model's
  // registration (by reference from the inference), which commits to the file's SHA-256.
  const ok = async (key: typeof t.admin, type: string, body: object, refs?: Record<string, string>) =>
    (await t.node.appender.append(t.sign(key, type, body as never, refs))).leafHash;
  const rad = await t.enrol("rad-1", ["radiologist"]);
  const ai = await t.enrol("ai-1", ["ai-system"], { kind: "system" });
  const study = await ok(t.institution, "study.registered", studyBody(fakePseudonym()));
  const model = await ok(t.admin, "ai.model.registered", {
    vendor: "Acme AI",
    name: "BigModel",
    version: "1.0.0",
    artifactHash: bigHash,
    intendedUse: "test of a large bundle payload",
  });
  const inference = await ok(ai, "ai.inference", inferenceBody(t, study, "gpu-1"), { model, study });
  const report = await ok(rad, "report.opened", { reportKind: "diagnostic" }, { study });
  await ok(
    ai,
    "report.contribution",
    { section: "measurement", role: "ai-system", contentCommitment: fakeHash(), origin: "ai" },
    { report, inference },
  );
  members = [];
  for await (const m of prepareBundle(t.node, { kind: "report", id: report }).members) members.push(m);
  plainMembers = [...members];
  const manifest = parseManifest(members[0]!.bytes);
  members[0] = { path: MANIFEST_PATH, bytes: encodeManifest({ ...manifest, files: [bigHash] }) };
  // The large bundle, written as a stream of zeros (never held in memory here either).
  bigTar = join(work.path, "big.radledger.tar");
  const fd = openSync(bigTar, "w");
  for (const m of members) {
    writeSync(fd, tarHeader(m.path, m.bytes.length));
    writeSync(fd, m.bytes);
    writeSync(fd, tarPadding(m.bytes.length));
  }
  writeSync(fd, tarHeader(filePath(bigHash), size));
  const zeros = new Uint8Array(4 * 1024 * 1024);
  for (let left = size; left > 0; left -= zeros.length)
    writeSync(fd, left >= zeros.length ? zeros : zeros.subarray(0, left));
  writeSync(fd, tarPadding(size));
  writeSync(fd, tarEnd());
  closeSync(fd);
  // For measuring by hand (time, /usr/bin/time -v): keep the large bundle and its log key.
  const keep = process.env.RADLEDGER_HOSTILE_KEEP;
  if (keep) {
    linkSync(bigTar, keep);
    writeFileSync(`${keep}.log-key`, t.node.verifierKey);
  }
}, 180_000);

afterAll(async () => {
  await t.close();
  work.remove();
});

interface Watched {
  readonly code: number | null;
  readonly report: BundleReport | undefined;
  readonly stderr: string;
  readonly peakMb: number;
  readonly ms: number;
  /** Why the watchdog killed it, if it did. */
  readonly killed?: string;
}

/** Peak resident set (VmHWM) of a live process, in MB; 0 once it is gone. */
function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * `radledger verify PATH --json` in its own process under a watchdog: its peak RSS is sampled every
 * 20 ms (a measurement, not a synchronisation), and it is killed when it passes `rssMb` or runs
 * longer than `ms` — so that a verifier that reads without end or blocks fails the test, not the machine.
 */
function verifyWatched(path: string, limits: { rssMb: number; ms: number }): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [CLI, "verify", path, "--log-key", t.node.verifierKey, "--json", "--quiet"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    let peak = 0;
    let killed: string | undefined;
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const sample = (): void => {
      peak = Math.max(peak, peakRssMb(child.pid!));
      if (killed) return;
      if (peak > limits.rssMb) killed = `peak RSS ${peak.toFixed(0)} MB > ${limits.rssMb} MB`;
      else if (Date.now() - started > limits.ms) killed = `still running after ${limits.ms} ms`;
      if (killed) child.kill("SIGKILL");
    };
    const timer = setInterval(sample, 20);
    child.on("error", reject);
    child.on("exit", () => sample());
    child.on("close", (code) => {
      clearInterval(timer);
      let report: BundleReport | undefined;
      try {
        report = JSON.parse(stdout) as BundleReport;
      } catch {
        report = undefined;
      }
      resolve({
        code,
        report,
        stderr,
        peakMb: peak,
        ms: Date.now() - started,
        ...(killed ? { killed } : {}),
      });
    });
  });
}

/**
 * The record as a bundle directory: by default the manifest names the large file (not written
 * here); `plain`, the record without it, which verifies as it is.
 */
function bundleDir(name: string, plain = false): string {
  const dir = join(work.path, name);
  for (const m of plain ? plainMembers : members) {
    const p = join(dir, ...m.path.split("/"));
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, m.bytes);
  }
  mkdirSync(join(dir, "files"), { recursive: true });
  return dir;
}

const verifyPath = (path: string): Promise<BundleReport> =>
  verifyBundlePath(bundleVerifier, path, { logKeys: [t.node.verifierKey], threads: 0 });

describe("bundles: bounded memory", () => {
  test(`a ${MEMBER_MB} MB member is hashed as it streams: VERIFIED with peak RSS under ${RSS_LIMIT_MB} MB`, async () => {
    const r = await verifyWatched(bigTar, { rssMb: RSS_LIMIT_MB, ms: 120_000 });
    console.log(`verify ${MEMBER_MB} MB member: ${r.ms} ms, peak RSS ${r.peakMb.toFixed(0)} MB`);
    expect(r.killed, r.stderr).toBeUndefined();
    expect(r.report?.failures).toEqual([]);
    expect(r.report).toMatchObject({ ok: true, trust: "verified", payloads: { files: 1 } });
    expect(r.report!.payloads.bytes).toBeGreaterThanOrEqual(MEMBER_MB * 1024 * 1024);
    expect(r.code).toBe(0);
    expect(r.peakMb).toBeLessThan(RSS_LIMIT_MB);
  }, 180_000);

  test("a structured file beyond its bound is BUNDLE_MEMBER_TOO_LARGE, refused from its declared size", async () => {
    const path = join(work.path, "big-checkpoint.radledger.tar");
    const huge = new Uint8Array(2 * 1024 * 1024).fill(0x41);
    writeFileSync(path, encodeTar([members[0]!, { path: "checkpoint", bytes: huge }, ...members.slice(2)]));
    const report = await verifyPath(path);
    expect(report.ok).toBe(false);
    expect(report.failures[0]).toMatchObject({ code: "BUNDLE_MEMBER_TOO_LARGE", at: "checkpoint" });
  });
});

describe("bundles: a directory bundle holds regular files only", () => {
  const limits = { rssMb: RSS_LIMIT_MB, ms: 20_000 };

  test("a symlink to /dev/zero is refused quickly, named", async () => {
    const dir = bundleDir("dir-devzero");
    symlinkSync("/dev/zero", join(dir, "files", bigHash));
    const r = await verifyWatched(dir, limits);
    expect(r.killed).toBeUndefined();
    expect(r.code).toBe(1);
    expect(r.report!.failures).toEqual([
      expect.objectContaining({
        code: "BUNDLE_MEMBER_NOT_REGULAR",
        at: filePath(bigHash),
        message: expect.stringContaining("symbolic link") as unknown,
      }),
    ]);
  }, 30_000);

  test("a FIFO is refused without waiting for a writer", async () => {
    const dir = bundleDir("dir-fifo");
    execFileSync("mkfifo", [join(dir, "files", bigHash)]);
    const r = await verifyWatched(dir, limits);
    expect(r.killed).toBeUndefined();
    expect(r.code).toBe(1);
    expect(r.report!.failures).toEqual([
      expect.objectContaining({
        code: "BUNDLE_MEMBER_NOT_REGULAR",
        at: filePath(bigHash),
        message: expect.stringContaining("FIFO") as unknown,
      }),
    ]);
  }, 30_000);

  test("links out of the directory are refused, not followed: a linked folder, a linked file", async () => {
    // The linked targets hold exactly the right bytes: following them would verify.
    const outside = bundleDir("outside", true);
    expect((await verifyPath(outside)).ok).toBe(true);
    const folder = bundleDir("dir-linked-folder", true);
    rmSync(join(folder, "entries"), { recursive: true });
    symlinkSync(join(outside, "entries"), join(folder, "entries"));
    const file = bundleDir("dir-linked-file", true);
    rmSync(join(file, "checkpoint"));
    symlinkSync(join(outside, "checkpoint"), join(file, "checkpoint"));
    for (const [dir, at] of [
      [folder, "entries"],
      [file, "checkpoint"],
    ] as const) {
      const report = await verifyPath(dir);
      expect(report.ok, at).toBe(false);
      expect(report.failures[0], at).toMatchObject({ code: "BUNDLE_MEMBER_NOT_REGULAR", at });
    }
  });
});

/** A header for `path` made non-canonical in one way, with a valid checksum (as a tar tool writes it). */
function rawHeader(path: string, size: number, edit: (h: Uint8Array) => void): Uint8Array {
  const h = tarHeader("files/x", size);
  h.fill(0, 0, 100);
  h.set(new TextEncoder().encode(path).subarray(0, 100), 0);
  edit(h);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
  return h;
}

/** The record's tar with one more member, given as raw header and content, where the file belongs. */
async function tarWith(name: string, header: Uint8Array, content = new Uint8Array(0)): Promise<string> {
  const path = join(work.path, name);
  const parts = [
    encodeTar(members).subarray(0, -2 * TAR_BLOCK),
    header,
    content,
    tarPadding(content.length),
    tarEnd(),
  ];
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

describe("bundles: a tar bundle holds regular files only, inside the archive", () => {
  test("symlink, hard link, device and FIFO members are refused, named as such", async () => {
    const kinds: [string, string][] = [
      ["1", "hard link"],
      ["2", "symbolic link"],
      ["3", "character device"],
      ["4", "block device"],
      ["6", "FIFO"],
    ];
    for (const [flag, what] of kinds) {
      const header = rawHeader(filePath(bigHash), 0, (h) => {
        h[156] = flag.charCodeAt(0);
        if (flag === "1" || flag === "2") h.set(new TextEncoder().encode("/dev/zero"), 157);
      });
      const report = await verifyPath(await tarWith(`typeflag-${flag}.tar`, header));
      expect(report.ok, what).toBe(false);
      expect(report.failures[0], what).toMatchObject({ code: "BUNDLE_MALFORMED" });
      expect(report.failures[0]!.message, what).toContain(what);
      expect(report.failures[0]!.at, what).toMatch(/^byte \d+$/);
    }
  });

  test("a member name with ../ or an absolute path is refused", async () => {
    for (const name of ["../../etc/passwd", "files/../../x", "/etc/passwd"]) {
      const report = await verifyPath(
        await tarWith(
          "dotdot.tar",
          rawHeader(name, 1, () => {}),
          new Uint8Array(1),
        ),
      );
      expect(report.ok, name).toBe(false);
      expect(report.failures[0], name).toMatchObject({ code: "BUNDLE_MALFORMED" });
      expect(report.failures[0]!.message, name).toContain("is not allowed");
    }
  });

  test("a size beyond the rest of the archive is refused from the header; a truncated archive is refused", async () => {
    // The header declares 8 GiB − 1 in a file of a few kilobytes: refused before any reading.
    const lying = await tarWith("lying.tar", tarHeader(filePath(bigHash), 8 ** 11 - 1));
    const report = await verifyPath(lying);
    expect(report.ok).toBe(false);
    expect(report.failures[0]).toMatchObject({ code: "BUNDLE_MALFORMED" });
    expect(report.failures[0]!.message).toMatch(/declares 8589934591 bytes, more than the \d+ left/);
    // Cut inside the entries file, and inside a header.
    const whole = await readFile(join(work.path, "lying.tar"));
    const entriesAt = whole.indexOf("entries/0");
    for (const cut of [entriesAt + TAR_BLOCK + 100, entriesAt + 40]) {
      const path = join(work.path, `truncated-${cut}.tar`);
      writeFileSync(path, whole.subarray(0, cut));
      const r = await verifyPath(path);
      expect(r.ok, `cut at ${cut}`).toBe(false);
      expect(r.failures[0], `cut at ${cut}`).toMatchObject({ code: "BUNDLE_MALFORMED" });
    }
  });
});

// The hash used above must be the hash the verifier computes: a direct check of the helper.
test("zerosHash agrees with hashing the bytes", () => {
  expect(zerosHash(5_000_000)).toBe(sha(new Uint8Array(5_000_000)));
});
