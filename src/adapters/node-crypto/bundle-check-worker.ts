/** Worker thread of BundleCheckPool: the signatures of a batch of bundle entries, and tree roots. */
import { parentPort, workerData } from "node:worker_threads";
import { ed25519Verify, nodeCrypto } from "./crypto.js";
import { badSignatures, unpackTasks } from "../../core/bundle/entry-check.js";
import { merkleBlockRoots } from "../../core/merkle/manifest.js";
import { isRadledgerError } from "../../core/errors.js";
import { rootFromMultiInclusionProof } from "../../core/merkle/multiproof.js";
import type { CountingWorkerData } from "../threads/worker-pool.js";
import type { BundleCheckJob, BundleCheckResult } from "./bundle-check-pool.js";

/** The jobs this worker has finished, read by the pool to choose a worker (WorkerPool countedByWorker). */
const finished = new Int32Array((workerData as CountingWorkerData).finished);

function run(job: BundleCheckJob): { result: BundleCheckResult; transfer: ArrayBuffer[] } {
  switch (job.kind) {
    case "entries": {
      const tasks = unpackTasks(new Uint8Array(job.data), job.offsets, job.indexes);
      const bad = badSignatures(tasks, ed25519Verify);
      return { result: { id: job.id, verdicts: { badSignatures: bad } }, transfer: [] };
    }
    case "multi-inclusion-root": {
      const proof: Uint8Array[] = [];
      for (let o = 0; o < job.proof.length; o += 32) proof.push(job.proof.subarray(o, o + 32));
      const root = rootFromMultiInclusionProof(
        nodeCrypto,
        Array.from(job.indexes),
        job.size,
        job.leafHashes,
        proof,
      );
      return { result: { id: job.id, root }, transfer: [] };
    }
    case "merkle-blocks": {
      const { hashes, blockLeaves, claims, roots } = job;
      const blocks = claims.length - 1; // the last slot hands out the next block from the front
      for (;;) {
        const b = Atomics.add(claims, blocks, 1);
        // A claim lost at the front is the calling thread's, which has every block after it too.
        if (b >= blocks || Atomics.compareExchange(claims, b, 0, 1) !== 0) break;
        const at = 32 * b * blockLeaves;
        roots.set(
          merkleBlockRoots(nodeCrypto, hashes.subarray(at, at + 32 * blockLeaves), blockLeaves),
          32 * b,
        );
      }
      return { result: { id: job.id, done: true }, transfer: [] };
    }
  }
}

parentPort!.on("message", (job: BundleCheckJob) => {
  let answer: { result: BundleCheckResult; transfer: ArrayBuffer[] };
  try {
    answer = run(job);
  } catch (e) {
    // Coded errors (a proof of the wrong length, …) are verdicts the verifier reports.
    const error = isRadledgerError(e)
      ? { code: e.code, message: e.message }
      : { code: "INTERNAL" as const, message: e instanceof Error ? e.message : String(e) };
    answer = { result: { id: job.id, error }, transfer: [] };
  }
  parentPort!.postMessage(answer.result, answer.transfer);
  Atomics.add(finished, 0, 1);
});
