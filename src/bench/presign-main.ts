/**
 * The append benchmark's pre-signer as a process of its own (append.ts presignInChild): the load
 * generator's memory — its worker threads' heaps, which the allocator keeps after they end
 * (≈ 85 MB for 100,000 entries) — must not count in the node's peak RSS.
 *
 * Reads its job as one line of JSON from stdin (it holds a key seed: not for the command line);
 * prints `progress <done> <total>` lines while signing and `done <bytes>` at the end.
 *
 * The parent keeps stdin open while it waits: the end of stdin means the benchmark is gone (killed,
 * even with SIGKILL, which runs none of its clean-up: the kernel closes the pipe), and the
 * pre-signer stops at once instead of signing on for nobody (issue 19, finding 6).
 */
import { presign, type PresignJob } from "./append.js";

let input = "";
let started = false;
const job = await new Promise<PresignJob>((resolve) => {
  process.stdin.on("data", (chunk: Buffer) => {
    if (started) return; // nothing more is sent; reading on is how the end of stdin is seen
    input += chunk.toString("utf8");
    const line = input.indexOf("\n");
    if (line < 0) return;
    started = true;
    resolve(JSON.parse(input.slice(0, line)) as PresignJob);
  });
  process.stdin.once("end", () => {
    // The parent is gone: before the job arrived, or while signing.
    process.exit(started ? 1 : 2);
  });
});
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
// stdin no longer keeps this process alive.
process.stdin.destroy();
