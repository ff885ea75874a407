/**
 * The DICOM adapters as the node's DicomToolkit (src/ports/imaging.ts): the streaming Part 10 hasher,
 * its worker-thread pool, the PS3.15 Annex E rewriter, and the AI result reader (ai-result.ts).
 */
import type { DicomToolkit } from "../../ports/imaging.js";
import { mayBeAiResult, readAiResult } from "./ai-result.js";
import { deidentifyFile } from "./deidentify.js";
import { DicomHashPool } from "./hash-pool.js";
import { hashDicomFile, hashDicomStream } from "./hasher.js";

/** Chunks as Buffers without copying: the hasher reads them with Buffer methods. */
async function* asBuffers(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const chunk of source)
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export const dicomToolkit: DicomToolkit = {
  hashStream: (source) => hashDicomStream(asBuffers(source)),
  hashFile: (path) => hashDicomFile(path),
  hashPool: (threads) => new DicomHashPool(threads),
  deidentifyFile,
  mayBeAiResult,
  readAiResult,
};
