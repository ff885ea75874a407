/** Worker thread that pre-signs a range of a benchmark workload (outside the timed part). */
import { parentPort, workerData } from "node:worker_threads";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { makeWorkloadRange, type WorkloadName, type WorkloadSetup } from "./workloads.js";

interface Job {
  readonly workload: WorkloadName;
  readonly setup: WorkloadSetup;
  readonly start: number;
  readonly count: number;
}

const { workload, setup, start, count } = workerData as Job;
const CHUNK = 4096;
for (let s = start; s < start + count; s += CHUNK) {
  const n = Math.min(CHUNK, start + count - s);
  const entries = makeWorkloadRange(nodeCrypto, workload, setup, s, n);
  // Send as one buffer of uint16 length-prefixed entries (the tlog-tiles bundle framing).
  let size = 0;
  for (const e of entries) size += 2 + e.length;
  const buf = new Uint8Array(size);
  let o = 0;
  for (const e of entries) {
    buf[o] = e.length >> 8;
    buf[o + 1] = e.length & 0xff;
    buf.set(e, o + 2);
    o += 2 + e.length;
  }
  parentPort!.postMessage({ start: s, count: n, data: buf }, [buf.buffer]);
}
parentPort!.postMessage({ done: true });
