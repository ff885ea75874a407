/**
 * Bundle verification benchmark (docs/performance.md: bundle verification ≥ 0.8 of the Ed25519-verification
 * ceiling): a dataset version of `entries` additions (items and annotations by several signers) is
 * appended through the real append path, sealed, exported as a bundle file, and verified
 *
 *  - by the CLI, `radledger verify BUNDLE --json` in its own process (dist/cli/main.js; start-up
 *    included), as entries/s and as a ratio to the Ed25519 ceiling measured in the same run on the
 *    same number of threads (ceiling.ts);
 *  - in Chromium by the verifier page (the same pure core in a Web Worker, WebCrypto Ed25519), when
 *    a Chromium binary and playwright-core are present — the page's own elapsed time.
 *
 * Entries are pre-signed in this process before anything is timed.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { initDataDir } from "../app/init.js";
import { readActorKey, readLogKey, signAs, type HeldKey } from "../app/keys.js";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import type { CryptoSuite } from "../core/crypto.js";
import type { JsonObject } from "../core/canonical-json.js";
import { formatVerifierKey } from "../core/note.js";
import { openNode, nodeFactory } from "../wiring/node.js";
import { prepareBundle, writeBundleFile } from "../app/bundle-export.js";
import type { BundleReport } from "../core/bundle/types.js";
import { multiInclusionProofRanges } from "../core/merkle/multiproof.js";
import { toBase64 } from "../core/bytes.js";
import { actorKeyId } from "../core/entry.js";
import { launchChromium } from "./chromium.js";
import { RadledgerError } from "../core/errors.js";
import { proposeSeal } from "../domain/datasets/queries.js";
import { measureVerifyCeiling } from "./ceiling.js";
import { runNode } from "./child.js";

export interface BundleBenchOptions {
  /** Entries in the dataset bundle (additions + identity + dataset entries); default 100,000. */
  readonly entries?: number;
  readonly threads?: number;
  /** Also time the browser verifier page in Chromium (default: when /usr/bin/chromium exists). */
  readonly browser?: boolean;
  readonly chromium?: string;
  readonly progress?: (phase: string, done: number, total: number) => void;
  /** Also copy the bundle file here (for profiling or for another verifier). */
  readonly keepBundle?: string;
}

export interface BundleBenchResult {
  readonly entries: number;
  /** The checkpoint's tree size: the log also holds entries of other records. */
  readonly logSize: number;
  /** Hashes in the bundle's multi-leaf inclusion proof. */
  readonly inclusionProofHashes: number;
  readonly bundleBytes: number;
  readonly threads: number;
  readonly exportSeconds: number;
  readonly exportEntriesPerSecond: number;
  readonly cliSeconds: number;
  readonly cliEntriesPerSecond: number;
  /** Mean of the two measurements below. */
  readonly verifyCeilingPerSecond: number;
  readonly verifyCeilingBeforeAfter: readonly [number, number];
  readonly cliRatioToCeiling: number;
  readonly browser?: {
    readonly seconds: number;
    readonly entriesPerSecond: number;
    readonly engine: string;
    readonly chromium: string;
  };
  readonly browserSkipped?: string;
}

const ORIGIN = "radledger.bench.example/log";
const SIGNERS = 8;

function newKey(crypto: CryptoSuite, actor: string): HeldKey {
  const seed = crypto.randomBytes(32);
  const publicKey = crypto.ed25519PublicKey(seed);
  return { actor, seed, publicKey, keyId: actorKeyId(crypto, publicKey) };
}

export async function benchBundle(options: BundleBenchOptions = {}): Promise<BundleBenchResult> {
  const target = options.entries ?? 100_000;
  const threads = options.threads ?? availableParallelism();
  const progress = options.progress ?? ((): void => undefined);
  const work = mkdtempSync(join(tmpdir(), "radledger-bench-bundle-"));
  try {
    const dir = join(work, "data");
    await initDataDir(dir, { origin: ORIGIN, institutionName: "Bench Hospital" }, nodeFactory);
    const node = openNode(dir, { verifyThreads: threads });
    let bundlePath: string;
    let manifestEntries: number;
    let logSize: number;
    let inclusionProofHashes: number;
    let exportSeconds: number;
    try {
      const crypto = node.crypto;
      const admin = readActorKey(crypto, dir, "admin")!;
      const sign = (
        key: HeldKey,
        type: string,
        body: JsonObject,
        refs?: Record<string, string>,
      ): Uint8Array => signAs(crypto, key, ORIGIN, type, body, refs ? { refs } : {});
      const append = async (list: Uint8Array[]): Promise<string[]> => {
        const out: string[] = [];
        for (let i = 0; i < list.length; i += 4096) {
          const results = await node.appender.appendAll(list.slice(i, i + 4096));
          for (const r of results) {
            if (!r.ok) throw r.error;
            out.push(r.leafHash);
          }
          progress("append", Math.min(i + 4096, list.length), list.length);
        }
        return out;
      };
      const curator = newKey(crypto, "cur-1");
      const annotators = Array.from({ length: SIGNERS }, (_, i) => newKey(crypto, `ann-${i}`));
      await append(
        [curator, ...annotators].map((k, i) =>
          sign(admin, "actor.enrolled", {
            actorId: k.actor,
            kind: "staff",
            roles: [i === 0 ? "curator" : "annotator"],
            publicKey: toBase64(k.publicKey),
          }),
        ),
      );
      // A second dataset's items are interleaved with the bundle's, one to every four, so that the
      // bundle is a sparse subset of the log as in a hospital's log, and its inclusion proof is not
      // trivial (a bundle covering the whole tree needs no proof hashes at all).
      const [dataset, otherDataset] = await append([
        sign(curator, "dataset.created", { name: "Bench nodules", purpose: "training" }),
        sign(curator, "dataset.created", { name: "Other study", purpose: "research" }),
      ]);
      // Half items by the curator, half annotations by the annotators, each on an item.
      const additions = Math.max(2, target - 2 - (SIGNERS + 1) - 2); // genesis, admin, enrolments, created, seal
      const items = Math.ceil(additions / 2);
      const hash = (s: string): string => createHash("sha256").update(s).digest("hex");
      const itemBytes: Uint8Array[] = [];
      const ours: boolean[] = [];
      const item = (i: number, of: string): Uint8Array =>
        sign(
          curator,
          "dataset.item.added",
          {
            manifestRoot: hash(`item ${i} of ${of}`),
            instanceCount: 64,
            modality: "CT",
            sourceInstitution: "hospital-a",
          },
          { dataset: of },
        );
      for (let i = 0; i < items; i++) {
        itemBytes.push(item(i, dataset!));
        ours.push(true);
        if (i % 4 === 3) {
          itemBytes.push(item(i, otherDataset!));
          ours.push(false);
        }
        if (i % 4096 === 0) progress("sign", i, additions);
      }
      const itemIds = (await append(itemBytes)).filter((_, k) => ours[k]);
      const annotationBytes: Uint8Array[] = [];
      for (let i = 0; i < additions - items; i++) {
        annotationBytes.push(
          sign(
            annotators[i % SIGNERS]!,
            "dataset.annotation.added",
            {
              labelSchema: "lung-nodule-v2",
              tool: { name: "3D Slicer", version: "5.6.2" },
              contentHash: hash(`annotation ${i}`),
            },
            { dataset: dataset!, item: itemIds[i % itemIds.length]! },
          ),
        );
        if (i % 4096 === 0) progress("sign", items + i, additions);
      }
      await append(annotationBytes);
      await append([
        sign(curator, "dataset.version.sealed", proposeSeal(node.store, crypto, dataset!), {
          dataset: dataset!,
        }),
      ]);

      // Export (timed, streaming to a file).
      bundlePath = join(work, "dataset.radledger.tar");
      const started = performance.now();
      const { manifest, members } = prepareBundle(
        node,
        { kind: "dataset", id: dataset! },
        {
          onProgress: (d, t) => progress("export", d, t),
        },
      );
      await writeBundleFile(members, bundlePath);
      exportSeconds = (performance.now() - started) / 1000;
      manifestEntries = manifest.entries.length;
      logSize = manifest.size;
      inclusionProofHashes = multiInclusionProofRanges(manifest.entries, manifest.size).length;
      if (options.keepBundle !== undefined) copyFileSync(bundlePath, options.keepBundle);
    } finally {
      await node.close();
    }
    const vkey = formatVerifierKey(readLogKey(nodeCrypto, dir));

    // The ceiling and the CLI path, in the same run on the same threads.
    // The machine is shared: the ceiling is measured just before and just after the verification and
    // averaged, so that a change of load during the run weighs on both sides of the ratio.
    progress("ceiling", 0, 1);
    const ceilingBefore = await measureVerifyCeiling(threads);
    progress("verify", 0, manifestEntries);
    const { seconds: cliSeconds, report } = await timeCli(bundlePath, vkey, threads);
    progress("verify", manifestEntries, manifestEntries);
    const ceilingAfter = await measureVerifyCeiling(threads);
    const ceiling = Math.round((ceilingBefore + ceilingAfter) / 2);
    if (!report.ok)
      throw new RadledgerError(
        "INTERNAL",
        `bench bundle does not verify: ${JSON.stringify(report.failures.slice(0, 2))}`,
      );
    const cliRate = Math.round(manifestEntries / cliSeconds);
    const base = {
      entries: manifestEntries,
      logSize,
      inclusionProofHashes,
      bundleBytes: statSync(bundlePath).size,
      threads,
      exportSeconds: round(exportSeconds),
      exportEntriesPerSecond: Math.round(manifestEntries / exportSeconds),
      cliSeconds: round(cliSeconds),
      cliEntriesPerSecond: cliRate,
      verifyCeilingPerSecond: ceiling,
      verifyCeilingBeforeAfter: [ceilingBefore, ceilingAfter] as const,
      cliRatioToCeiling: round(cliRate / ceiling),
    };
    const chromium = options.chromium ?? "/usr/bin/chromium";
    if (options.browser === false) return { ...base, browserSkipped: "disabled" };
    if (!existsSync(chromium)) return { ...base, browserSkipped: `${chromium} not found` };
    progress("browser", 0, 1);
    const browser = await timeInBrowser(chromium, bundlePath, vkey);
    return {
      ...base,
      browser: { ...browser, entriesPerSecond: Math.round(manifestEntries / browser.seconds), chromium },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** The browser verifier's verdict once it is final (src/web/verifier/page.ts). */
const FINAL_VERDICT = ["verified", "untrusted", "failed", "input-error"]
  .map((s) => `#verdict[data-state="${s}"]`)
  .join(", ");

/** Loads the built page from disk (file://), hands it the bundle, and reads the page's own timing. */
async function timeInBrowser(
  chromiumPath: string,
  bundle: string,
  vkey: string,
): Promise<{ seconds: number; engine: string }> {
  const page = fileURLToPath(new URL("../web/verifier.html", import.meta.url));
  const built = existsSync(page)
    ? page
    : fileURLToPath(new URL("../../dist/web/verifier.html", import.meta.url));
  const browser = await launchChromium(chromiumPath);
  try {
    const p = await browser.context.newPage();
    await p.goto(`file://${built}`);
    await p.fill("#log-keys", vkey);
    await p.setInputFiles("#file", bundle);
    await p.waitForSelector(FINAL_VERDICT, {
      timeout: 30 * 60_000,
    });
    if ((await p.getAttribute("#verdict", "data-state")) !== "verified")
      throw new RadledgerError(
        "INTERNAL",
        `the browser did not verify the bench bundle: ${(await p.innerText("#report")).slice(0, 400)}`,
      );
    const ms = Number(await p.getAttribute("#verdict", "data-ms"));
    const verdict = await p.innerText("#verdict");
    return {
      seconds: round(ms / 1000),
      engine: /WebCrypto/.test(verdict) ? "WebCrypto Ed25519" : "@noble Ed25519",
    };
  } finally {
    await browser.close();
  }
}

/**
 * `radledger verify BUNDLE --log-key K --threads N --json` as a user runs it: its own process (fresh
 * heap, its own start-up included), timed from spawn to exit.
 */
async function timeCli(
  bundlePath: string,
  logKey: string,
  threads: number,
): Promise<{ seconds: number; report: BundleReport }> {
  const cli = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
  const args = [cli, "verify", bundlePath, "--log-key", logKey, "--threads", String(threads), "--json"];
  const started = performance.now();
  const run = await runNode(args, "pipe");
  const seconds = (performance.now() - started) / 1000;
  try {
    return { seconds, report: JSON.parse(run.stdout) as BundleReport };
  } catch {
    throw new RadledgerError(
      "INTERNAL",
      `radledger verify exited ${run.code} without a JSON report: ${run.stderr.slice(0, 400)}`,
    );
  }
}
