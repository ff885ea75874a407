/** Worker thread of BundleCheckPool: leaf hashes and signatures of a batch of bundle entries. */
import { parentPort } from "node:worker_threads";
import { nodeCrypto } from "./crypto.js";
import { prepareEntryChecks, unpackTasks } from "../../core/bundle/entry-check.js";
import type { BundleCheckJob, BundleCheckResult } from "./bundle-check-pool.js";

parentPort!.on("message", (job: BundleCheckJob) => {
  const tasks = unpackTasks(new Uint8Array(job.data), job.offsets, job.indexes);
  const { leafHashes, signatures, bad } = prepareEntryChecks(nodeCrypto, tasks);
  for (const { i, check } of signatures)
    if (!nodeCrypto.ed25519Verify(check.publicKey, check.message, check.signature)) bad.push(i);
  const result: BundleCheckResult = { id: job.id, leafHashes, badSignatures: bad.sort((a, b) => a - b) };
  parentPort!.postMessage(result, [leafHashes.buffer as ArrayBuffer]);
});
