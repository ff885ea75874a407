/**
 * The append benchmark's pre-signer as a process of its own (append.ts presignInChild): the load
 * generator's memory — its worker threads' heaps, which the allocator keeps after they end
 * (≈ 85 MB for 100,000 entries) — must not count in the node's peak RSS.
 *
 * Reads its job as JSON from stdin (it holds a key seed: not for the command line); prints
 * `progress <done> <total>` lines while signing and `done <bytes>` at the end.
 */
import { presign, type PresignJob } from "./append.js";

let input = "";
for await (const chunk of process.stdin) input += (chunk as Buffer).toString("utf8");
const job = JSON.parse(input) as PresignJob;
let reported = 0;
const bytes = await presign(
  job.file,
  job.workload,
  job.setup,
  job.count,
  job.threads,
  (_phase, done, total) => {
    // Every 1 % is enough for a progress line.
    if (done - reported >= total / 100 || done === total) {
      reported = done;
      process.stdout.write(`progress ${done} ${total}\n`);
    }
  },
);
process.stdout.write(`done ${bytes}\n`);
