/**
 * The machine's Ed25519 verification ceiling, measured in the same run as the append benchmark:
 * `threads` worker threads verify distinct typical entry signatures in a loop for a fixed time. The
 * append path's rate divided by this is `ratioToCeiling` (docs/performance.md).
 *
 * Distinct signatures, as a log verifies them: OpenSSL's Ed25519 verification is variable-time (a
 * sliding-window double scalar multiplication), and verifying one signature over and over lets the
 * CPU's branch predictors learn its exact path. Measured on the CI machine (docs/performance.md,
 * "The Ed25519 ceiling"): one signature repeated — also as 4,096 copies at distinct addresses, so not
 * a memory effect — verifies 4–6 % faster than 4,096 distinct ones, which no workload can reach.
 */
import { Worker } from "node:worker_threads";

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const crypto = require("node:crypto");
// Several signers and workerData.signatures distinct messages, as in a log; key objects made once,
// as the node caches them.
const keys = Array.from({ length: 8 }, () => crypto.generateKeyPairSync("ed25519"));
const checks = [];
for (let i = 0; i < workerData.signatures; i++) {
  const { privateKey, publicKey } = keys[i % keys.length];
  const message = crypto.randomBytes(workerData.messageBytes);
  checks.push({ message, publicKey, signature: crypto.sign(null, message, privateKey) });
}
const start = performance.now();
const until = Date.now() + workerData.millis;
let n = 0;
while (Date.now() < until) {
  for (let i = 0; i < 64; i++) {
    const c = checks[(n + i) % checks.length];
    if (!crypto.verify(null, c.message, c.publicKey, c.signature)) throw new Error("verify failed");
  }
  n += 64;
}
parentPort.postMessage(n / ((performance.now() - start) / 1000));
`;

/** Distinct signatures per thread: enough that none repeats within a branch predictor's memory. */
const SIGNATURES = 4096;

export async function measureVerifyCeiling(
  threads: number,
  millis = 3000,
  messageBytes = 700,
): Promise<number> {
  // Each thread times its own loop: the threads' start-up is not verification time.
  const rates = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(WORKER, {
            eval: true,
            workerData: { millis, messageBytes, signatures: SIGNATURES },
          });
          w.once("message", (perSecond: number) => {
            resolve(perSecond);
            void w.terminate();
          });
          w.once("error", reject);
        }),
    ),
  );
  return Math.round(rates.reduce((a, b) => a + b, 0));
}
