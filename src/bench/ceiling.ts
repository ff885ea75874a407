/**
 * The machine's Ed25519 verification ceiling, measured in the same run as the append benchmark:
 * `threads` worker threads verify one typical entry signature in a loop for a fixed time. The append
 * path's rate divided by this is `ratioToCeiling` (DESIGN §8).
 */
import { Worker } from "node:worker_threads";

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const crypto = require("node:crypto");
const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
const message = Buffer.alloc(workerData.messageBytes, 7);
const signature = crypto.sign(null, message, privateKey);
const start = performance.now();
const until = Date.now() + workerData.millis;
let n = 0;
while (Date.now() < until) {
  for (let i = 0; i < 64; i++) if (!crypto.verify(null, message, publicKey, signature)) throw new Error("verify failed");
  n += 64;
}
parentPort.postMessage(n / ((performance.now() - start) / 1000));
`;

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
          const w = new Worker(WORKER, { eval: true, workerData: { millis, messageBytes } });
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
