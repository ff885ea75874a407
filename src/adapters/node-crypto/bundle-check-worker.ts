/** Worker thread of BundleCheckPool: leaf hashes, tlog-proofs and signatures of a batch of bundle entries. */
import { parentPort, workerData } from "node:worker_threads";
import { nodeCrypto } from "./crypto.js";
import {
  badSignature,
  EntryProofChecker,
  unpackTasks,
  type EntryFailure,
} from "../../core/bundle/entry-check.js";
import type { BundleCheckJob, BundleCheckResult, BundleCheckWorkerData } from "./bundle-check-pool.js";

const { checkpoint } = workerData as BundleCheckWorkerData;
const proofs = new EntryProofChecker(nodeCrypto, checkpoint);

parentPort!.on("message", (job: BundleCheckJob) => {
  const tasks = unpackTasks(new Uint8Array(job.data), job.offsets, job.indexes);
  const failures: EntryFailure[] = [];
  const { leafHashes, signatures } = proofs.checkProofs(tasks, failures);
  for (const { i, check } of signatures)
    if (!nodeCrypto.ed25519Verify(check.publicKey, check.message, check.signature))
      failures.push(badSignature(tasks[i]!.index));
  const result: BundleCheckResult = { id: job.id, leafHashes, failures };
  parentPort!.postMessage(result, [leafHashes.buffer as ArrayBuffer]);
});
