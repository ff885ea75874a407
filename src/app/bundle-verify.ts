/**
 * Bundle verification (docs/bundle-format.md §4) from disk: the files read in order, the pure core's
 * verifier (src/core/bundle/verify.ts), its signature checks on worker threads, and the `--against`
 * checkpoint with its consistency proof (from a file or a log's tiles). Apart from the export
 * (bundle-export.ts): `radledger verify BUNDLE` loads neither storage nor the domain. Its ports (the
 * crypto suite, the checking threads, HTTP) come from the wiring (src/wiring/bundle-verify.ts).
 */
import { constants, type Stats } from "node:fs";
import { lstat, open, readdir, readFile, stat, type FileHandle } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fromBase64 } from "../core/bytes.js";
import { parseCheckpointText } from "../core/checkpoint.js";
import type { CryptoSuite } from "../core/crypto.js";
import { isRadledgerError, RadledgerError } from "../core/errors.js";
import { parseSignedNote } from "../core/note.js";
import { TileClient } from "../core/tile-client.js";
import type { EntryChecker } from "../core/bundle/entry-check.js";
import type { HttpClient } from "../ports/consortium.js";
import { tarStream } from "../core/tar.js";
import { expectedPaths, MANIFEST_PATH, parseManifest, type BundleManifest } from "../core/bundle/format.js";
import { inlineSignatureVerifier } from "../core/bundle/signatures.js";
import {
  verifyBundle,
  type AgainstCheckpoint,
  type BundleInput,
  type BundleReport,
  type StreamedMember,
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

/** Content chunks of a bundle file read from disk: large enough that hashing dominates, small enough to bound memory. */
const READ_CHUNK = 1024 * 1024;

/**
 * A bundle file's members, streamed from disk through the strict ustar decoder (src/core/tar.ts):
 * each member's content is handed to the verifier chunk by chunk, so memory stays bounded by the
 * read size whatever a member's size. A regular file's length bounds what its headers may declare;
 * a pipe (`verify <(…)`) is read as the stream it is.
 */
export async function* bundleFileMembers(path: string): AsyncGenerator<StreamedMember> {
  // The path the user names is opened as it is (a pipe from `verify <(…)` must block for its
  // writer, not fail with EAGAIN); only what is inside a bundle is distrusted.
  const handle = await open(path, constants.O_RDONLY);
  try {
    const info = await handle.stat();
    if (!info.isFile() && !info.isFIFO())
      throw new RadledgerError(
        "BUNDLE_MEMBER_NOT_REGULAR",
        `${path} is ${fileKind(info)}, not a bundle file or directory`,
        { at: path },
      );
    const stream = handle.createReadStream({ highWaterMark: 4 * 1024 * 1024, autoClose: false });
    try {
      yield* tarStream(
        (async function* () {
          for await (const chunk of stream) {
            const b = chunk as Buffer;
            yield new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
          }
        })(),
        info.isFile() ? { totalSize: info.size } : {},
      );
    } finally {
      stream.destroy();
    }
  } finally {
    await handle.close();
  }
}

/** What a non-regular file is, for the refusal's message. */
function fileKind(info: Stats): string {
  if (info.isSymbolicLink()) return "a symbolic link";
  if (info.isFIFO()) return "a FIFO";
  if (info.isSocket()) return "a socket";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isDirectory()) return "a directory";
  return "not a regular file";
}

function notRegular(rel: string, info: Stats): RadledgerError {
  return new RadledgerError(
    "BUNDLE_MEMBER_NOT_REGULAR",
    `${rel} is ${fileKind(info)}: a bundle directory holds regular files only, and a verifier follows no link (docs/bundle-format.md §4.2)`,
    { at: rel },
  );
}

const isMissing = (e: unknown): boolean =>
  (e as NodeJS.ErrnoException | undefined)?.code === "ENOENT" ||
  (e as NodeJS.ErrnoException | undefined)?.code === "ENOTDIR";

/**
 * Opens a bundle directory's file for reading, refusing anything that is not a regular file inside
 * the directory: each directory on the way is lstat-ed (a link there would lead out of the bundle),
 * the file itself is lstat-ed, then opened with O_NOFOLLOW (a link swapped in meanwhile fails with
 * ELOOP) and O_NONBLOCK (a FIFO swapped in opens without waiting for a writer), and fstat-ed again
 * on the open descriptor, which is what is read. Undefined when the file does not exist.
 */
async function openBundleFile(
  dir: string,
  rel: string,
): Promise<{ handle: FileHandle; size: number } | undefined> {
  const parts = rel.split("/");
  let p = dir;
  for (let i = 0; i < parts.length; i++) {
    p = join(p, parts[i]!);
    let info: Stats;
    try {
      info = await lstat(p);
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
    const last = i === parts.length - 1;
    if (last ? !info.isFile() : !info.isDirectory()) throw notRegular(parts.slice(0, i + 1).join("/"), info);
  }
  let handle: FileHandle;
  try {
    handle = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (isMissing(e)) return undefined;
    if ((e as NodeJS.ErrnoException).code === "ELOOP") throw notRegular(rel, await lstat(p));
    throw e;
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw notRegular(rel, info);
  }
  return { handle, size: info.size };
}

/**
 * A file's content in chunks, at most the `size` fstat gave when it was opened: a file that grows
 * meanwhile is read as it was, one that shrinks ends early (and then fails its checks).
 */
async function* fileChunks(handle: FileHandle, size: number): AsyncGenerator<Uint8Array> {
  let read = 0;
  while (read < size) {
    const buf = new Uint8Array(Math.min(READ_CHUNK, size - read));
    const { bytesRead } = await handle.read(buf, 0, buf.length, read);
    if (bytesRead === 0) return;
    read += bytesRead;
    yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * A bundle directory's members in the order the manifest implies, followed by any file the manifest
 * does not list (which the verifier then reports). Each is streamed from its open descriptor when
 * the verifier reads it; a link, FIFO, socket or device anywhere on a path the manifest names is
 * refused (BUNDLE_MEMBER_NOT_REGULAR naming the path), never followed or opened for reading.
 */
export async function* bundleDirectoryMembers(dir: string): AsyncGenerator<BundleInput> {
  /** Yields the file at `rel` (closed once the verifier moves on); false when it does not exist. */
  const read = async function* (
    rel: string,
    seen?: (chunk: Uint8Array) => void,
  ): AsyncGenerator<BundleInput, boolean> {
    const opened = await openBundleFile(dir, rel).catch((e: unknown) => {
      if (isRadledgerError(e)) throw e;
      return undefined; // unreadable: reported as missing by the verifier
    });
    if (!opened) return false;
    const { handle, size } = opened;
    try {
      yield {
        path: rel,
        size,
        chunks: async function* () {
          for await (const c of fileChunks(handle, size)) {
            seen?.(c);
            yield c;
          }
        },
      };
    } finally {
      await handle.close();
    }
    return true;
  };
  // The manifest orders the rest: kept as the verifier reads it (within its bound), not read twice.
  const manifestChunks: Uint8Array[] = [];
  if (!(yield* read(MANIFEST_PATH, (c) => manifestChunks.push(c)))) return;
  let manifest: BundleManifest;
  try {
    manifest = parseManifest(concat(manifestChunks));
  } catch {
    return; // the verifier reports the manifest; nothing else can be ordered
  }
  const expected = new Set<string>([MANIFEST_PATH]);
  for (const path of expectedPaths(manifest)) {
    expected.add(path);
    if (!(yield* read(path))) return; // the verifier reports the first missing file
  }
  // Anything else in the directory is not part of the bundle; links are listed, never followed.
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
