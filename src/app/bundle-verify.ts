/**
 * Offline verification of a bundle file or directory (docs/bundle-format.md §4) on the node: the
 * files read from disk in order, the pure core's verifier (src/core/bundle/verify.ts), and its
 * signature checks on worker threads. Apart from the export (bundle-export.ts): `radledger verify
 * BUNDLE` loads neither storage nor the domain.
 */
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { BundleCheckPool } from "../adapters/node-crypto/bundle-check-pool.js";
import { RadledgerError } from "../core/errors.js";
import { tarMembers } from "../core/tar.js";
import { expectedPaths, MANIFEST_PATH, parseManifest, type BundleManifest } from "../core/bundle/format.js";
import { inlineSignatureVerifier } from "../core/bundle/signatures.js";
import {
  verifyBundle,
  type BundleMember,
  type BundleReport,
  type VerifyBundleOptions,
} from "../core/bundle/verify.js";

/** A bundle file's members, streamed from disk through the strict ustar decoder. */
export async function* bundleFileMembers(path: string): AsyncGenerator<BundleMember> {
  const stream = createReadStream(path, { highWaterMark: 4 * 1024 * 1024 });
  try {
    yield* tarMembers(
      (async function* () {
        for await (const chunk of stream) {
          const b = chunk as Buffer;
          yield new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
        }
      })(),
    );
  } finally {
    stream.destroy();
  }
}

/**
 * A bundle directory's members in the order the manifest implies, followed by any file the manifest
 * does not list (which the verifier then reports).
 */
export async function* bundleDirectoryMembers(dir: string): AsyncGenerator<BundleMember> {
  const manifestBytes = await readFile(join(dir, MANIFEST_PATH)).catch(() => undefined);
  if (!manifestBytes) return;
  yield { path: MANIFEST_PATH, bytes: manifestBytes };
  let manifest: BundleManifest;
  try {
    manifest = parseManifest(manifestBytes);
  } catch {
    return; // the verifier reports the manifest; nothing else can be ordered
  }
  const expected = new Set<string>([MANIFEST_PATH]);
  for (const path of expectedPaths(manifest)) {
    expected.add(path);
    const bytes = await readFile(join(dir, ...path.split("/"))).catch(() => undefined);
    if (!bytes) return; // the verifier reports the first missing file
    yield { path, bytes };
  }
  // Anything else in the directory is not part of the bundle.
  const walk = async function* (d: string): AsyncGenerator<string> {
    for (const it of await readdir(d, { withFileTypes: true })) {
      const p = join(d, it.name);
      if (it.isDirectory()) yield* walk(p);
      else yield relative(dir, p).split(sep).join("/");
    }
  };
  for await (const rel of walk(dir)) if (!expected.has(rel)) yield { path: rel, bytes: new Uint8Array(0) };
}

export interface VerifyPathOptions extends Omit<VerifyBundleOptions, "crypto" | "signatures"> {
  /** Threads that check entries, the calling one included (default: one per core; 0 or 1: the calling thread alone). */
  readonly threads?: number;
}

/** Verifies a bundle file or directory offline. */
export async function verifyBundlePath(path: string, options: VerifyPathOptions = {}): Promise<BundleReport> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new RadledgerError("STORE_NOT_FOUND", `no bundle at ${path}`);
  const members = info.isDirectory() ? bundleDirectoryMembers(path) : bundleFileMembers(path);
  const threads = options.threads;
  // Leaf hashes and signatures on worker threads; the main thread decodes and keeps log order. The
  // workers start now, so that they have loaded their modules (≈ 0.1 s) by the time the manifest
  // and checkpoint are read and the first entries are ready for them.
  const pool = threads !== undefined && threads <= 1 ? undefined : new BundleCheckPool(threads);
  try {
    return await verifyBundle(members, {
      ...options,
      crypto: nodeCrypto,
      signatures: inlineSignatureVerifier(nodeCrypto),
      ...(pool ? { entryChecker: () => pool } : {}),
    });
  } finally {
    await pool?.close();
  }
}
