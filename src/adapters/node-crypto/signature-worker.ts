/** Worker thread of SignaturePool: verifies a packed batch of Ed25519 signatures with node:crypto. */
import { parentPort } from "node:worker_threads";
import { nodeCrypto } from "./crypto.js";
import type { SignatureJob, SignatureJobResult } from "./signature-pool.js";

parentPort!.on("message", (job: SignatureJob) => {
  const n = job.offsets.length - 1;
  const data = new Uint8Array(job.data);
  const verdicts = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const start = job.offsets[i]!;
    const end = job.offsets[i + 1]!;
    const ok = nodeCrypto.ed25519Verify(
      data.subarray(start, start + 32),
      data.subarray(start + 96, end),
      data.subarray(start + 32, start + 96),
    );
    verdicts[i] = ok ? 1 : 0;
  }
  const result: SignatureJobResult = { id: job.id, verdicts };
  parentPort!.postMessage(result, [verdicts.buffer]);
});
