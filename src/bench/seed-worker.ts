/** Worker thread that signs a range of the seed's units (src/bench/seed-plan.ts) for `bench seed`. */
import { parentPort, workerData } from "node:worker_threads";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { seedUnits, type SeedPlan } from "./seed-plan.js";

interface Job {
  readonly plan: SeedPlan;
  readonly u0: number;
  readonly u1: number;
}

const { plan, u0, u1 } = workerData as Job;
const CHUNK = 400;
for (let s = u0; s < u1; s += CHUNK) {
  const e = Math.min(u1, s + CHUNK);
  const entries = seedUnits(nodeCrypto, plan, s, e);
  // One buffer of uint16 length-prefixed entries, as append.ts readEntries reads them back.
  let size = 0;
  for (const x of entries) size += 2 + x.length;
  const buf = new Uint8Array(size);
  let o = 0;
  for (const x of entries) {
    buf[o] = x.length >> 8;
    buf[o + 1] = x.length & 0xff;
    buf.set(x, o + 2);
    o += 2 + x.length;
  }
  parentPort!.postMessage({ start: s, end: e, count: entries.length, data: buf }, [buf.buffer]);
}
parentPort!.postMessage({ done: true });
