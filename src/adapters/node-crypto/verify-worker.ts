/**
 * Worker thread of the verification pool: checks a chunk of entries (decoding, schema, Ed25519,
 * leaf hash) and answers with compact typed arrays so that results cross threads without cloning
 * objects per entry.
 */
import { parentPort } from "node:worker_threads";
import { createRegistry } from "../../domain/registry.js";
import { verifyEntryBytes } from "../../domain/ledger/verify-entry.js";
import { nodeCrypto } from "./crypto.js";
import type { VerifyJob, VerifyJobResult } from "./verify-pool.js";

const registry = createRegistry();

parentPort!.on("message", (job: VerifyJob) => {
  const n = job.offsets.length - 1;
  const data = new Uint8Array(job.data);
  const status = new Uint8Array(n);
  const leafHashes = new Uint8Array(32 * n);
  const errors: VerifyJobResult["errors"] = [];
  for (let i = 0; i < n; i++) {
    const bytes = data.subarray(job.offsets[i], job.offsets[i + 1]);
    const key = job.known[i] === 1 ? job.keys.subarray(32 * i, 32 * i + 32) : undefined;
    const outcome = verifyEntryBytes(nodeCrypto, registry, bytes, key);
    if (outcome.ok) {
      status[i] = outcome.signatureChecked ? 2 : 1;
      leafHashes.set(outcome.leafHash, 32 * i);
    } else {
      errors.push({
        i,
        code: outcome.code,
        message: outcome.message,
        ...(outcome.at === undefined ? {} : { at: outcome.at }),
      });
    }
  }
  const result: VerifyJobResult = { id: job.id, status, leafHashes, errors };
  parentPort!.postMessage(result, [status.buffer, leafHashes.buffer]);
});
