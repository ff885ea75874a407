/**
 * Bundle verification (docs/bundle-format.md §4) from disk: the files read in order, the pure core's
 * verifier (src/core/bundle/verify.ts), its signature checks on worker threads, and the `--against`
 * checkpoint with its consistency proof (from a file or a log's tiles). Apart from the export
 * (bundle-export.ts): `radledger verify BUNDLE` loads neither storage nor the domain. Its ports (the
 * crypto suite, the checking threads, HTTP) come from the wiring (src/wiring/bundle-verify.ts).
 */
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fromBase64 } from "../core/bytes.js";
import { parseCheckpointText } from "../core/checkpoint.js";
import type { CryptoSuite } from "../core/crypto.js";
import { RadledgerError } from "../core/errors.js";
import { parseSignedNote } from "../core/note.js";
import { TileClient } from "../core/tile-client.js";
import type { EntryChecker } from "../core/bundle/entry-check.js";
import type { HttpClient } from "../ports/consortium.js";
import { tarMembers } from "../core/tar.js";
import { expectedPaths, MANIFEST_PATH, parseManifest, type BundleManifest } from "../core/bundle/format.js";
import { inlineSignatureVerifier } from "../core/bundle/signatures.js";
import {
  verifyBundle,
  type AgainstCheckpoint,
  type BundleMember,
  type BundleReport,
  type VerifyBundleOptions,
} from "../core/bundle/verify.js";

/** What bundle verification needs from the outside. */
export interface BundleVerifierPorts {
  readonly crypto: CryptoSuite;
  /** Starts signature-checking threads beside the calling one (default: one per core). */
  startCheckers(threads?: number): EntryChecker & { close(): Promise<void> };
  readonly http: HttpClient;
}

const HTTP_TIMEOUT_MS = 30_000;

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
export async function verifyBundlePath(
  ports: BundleVerifierPorts,
  path: string,
  options: VerifyPathOptions = {},
): Promise<BundleReport> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new RadledgerError("STORE_NOT_FOUND", `no bundle at ${path}`);
  const members = info.isDirectory() ? bundleDirectoryMembers(path) : bundleFileMembers(path);
  const threads = options.threads;
  // Leaf hashes and signatures on worker threads; the main thread decodes and keeps log order. The
  // workers start now, so that they have loaded their modules (≈ 0.1 s) by the time the manifest
  // and checkpoint are read and the first entries are ready for them.
  const pool = threads !== undefined && threads <= 1 ? undefined : ports.startCheckers(threads);
  try {
    return await verifyBundle(members, {
      ...options,
      crypto: ports.crypto,
      signatures: inlineSignatureVerifier(ports.crypto),
      ...(pool ? { entryChecker: () => pool } : {}),
    });
  } finally {
    await pool?.close();
  }
}

/** Where the later checkpoint of `--against` and its consistency proof come from. */
export interface AgainstSources {
  /** The later checkpoint: a file, or an http(s) URL. */
  readonly checkpoint: string;
  /** A consistency proof file: JSON {"proof":[base64…]} or one base64 hash per line. */
  readonly proofFile?: string;
  /** A log's tlog-tiles prefix to fetch the consistency proof from instead. */
  readonly logUrl?: string;
}

/** Reads a file, or GETs an http(s) URL. */
async function readSource(ports: BundleVerifierPorts, source: string): Promise<Uint8Array> {
  if (/^https?:\/\//.test(source)) {
    const res = await ports.http.get(source, HTTP_TIMEOUT_MS);
    if (res.status !== 200) throw new RadledgerError("INPUT_INVALID", `${source} answered ${res.status}`);
    return res.body;
  }
  try {
    return new Uint8Array(await readFile(source));
  } catch {
    throw new RadledgerError("STORE_NOT_FOUND", `cannot read ${source}`);
  }
}

const decoder = new TextDecoder();

/** A consistency proof as a file gives it: JSON {"proof":[base64…]} or one base64 hash per line. */
export function parseProofText(text: string): Uint8Array[] {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith("{")) {
      const value = JSON.parse(trimmed) as { proof?: unknown };
      if (!Array.isArray(value.proof) || !value.proof.every((p) => typeof p === "string"))
        throw new Error("no proof array");
      return value.proof.map((p) => fromBase64(p));
    }
    return trimmed.length === 0 ? [] : trimmed.split("\n").map((l) => fromBase64(l.trim()));
  } catch {
    throw new RadledgerError(
      "INPUT_INVALID",
      '--consistency-proof: expected JSON {"proof":[base64…]} or one base64 hash per line',
    );
  }
}

/**
 * The `--against` check's inputs: the later checkpoint's text, and its consistency proof from a file
 * or — fetched only once the core has verified that checkpoint — from the log's tiles.
 */
export async function againstCheckpoint(
  ports: BundleVerifierPorts,
  sources: AgainstSources,
): Promise<AgainstCheckpoint> {
  const checkpoint = decoder.decode(await readSource(ports, sources.checkpoint));
  const proof =
    sources.proofFile === undefined
      ? undefined
      : parseProofText(decoder.decode(await readSource(ports, sources.proofFile)));
  const logUrl = sources.logUrl?.replace(/\/+$/, "");
  return {
    checkpoint,
    ...(proof === undefined ? {} : { proof }),
    ...(logUrl === undefined
      ? {}
      : {
          fetchProof: async (from: number) => {
            const cp = parseCheckpointText(parseSignedNote(checkpoint).text);
            const client = new TileClient(
              ports.crypto,
              async (path) => {
                const res = await ports.http.get(`${logUrl}/${path}`, HTTP_TIMEOUT_MS);
                if (res.status !== 200)
                  throw new RadledgerError("TILE_NOT_FOUND", `${logUrl}/${path} answered ${res.status}`);
                return res.body;
              },
              cp,
            );
            return client.consistencyProof(from);
          },
        }),
  };
}
