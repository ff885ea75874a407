import { afterEach, describe, expect, it } from "vitest";
import { RadledgerError } from "../../core/errors.js";
import { WorkerPool } from "./worker-pool.js";
import type { PoolTestJob, PoolTestReply } from "../../../test/fixtures/pool-worker.js";

type TestPool = WorkerPool<PoolTestJob, PoolTestReply, PoolTestReply>;

const pools: TestPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function pool(workers: number, options: { countedByWorker?: boolean } = {}): TestPool {
  const p: TestPool = new WorkerPool({
    module: "../../../test/fixtures/pool-worker",
    callerUrl: import.meta.url,
    workers,
    name: "test worker",
    closedMessage: "the test pool is closed",
    ...options,
    answer: (r: PoolTestReply) => {
      if (r.value === "refuse") throw new RadledgerError("INPUT_INVALID", "refused by answer");
      return r;
    },
  });
  pools.push(p);
  return p;
}

/** A job that keeps its worker busy until `open` is called. */
function gated(value: string): { job: PoolTestJob; open: () => void } {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  return {
    job: { id: 0, kind: "wait", value, gate },
    open: () => {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    },
  };
}

const echo = (value: string): PoolTestJob => ({ id: 0, kind: "echo", value });

describe("WorkerPool", () => {
  it("routes each reply to its own caller when replies come back out of order", async () => {
    const p = pool(2);
    const a = gated("a");
    const b = gated("b");
    const c = gated("c");
    const d = gated("d");
    // Weights chosen so that the least loaded worker is never a tie after the first job:
    // a (1) → X, b (2) → Y, c (2) → X (1 < 2), d (2) → Y (2 < 3).
    const settled: string[] = [];
    const track = (job: PoolTestJob, weight: number): Promise<PoolTestReply> =>
      p.post(job, weight).then((r) => {
        settled.push(r.value);
        return r;
      });
    const pa = track(a.job, 1);
    const pb = track(b.job, 2);
    const pc = track(c.job, 2);
    const pd = track(d.job, 2);
    // Y's jobs first, then X's: replies cross the order of posting.
    b.open();
    expect((await pb).value).toBe("b");
    d.open();
    expect((await pd).value).toBe("d");
    expect(settled).toEqual(["b", "d"]);
    a.open();
    c.open();
    const [ra, rc] = await Promise.all([pa, pc]);
    expect([ra.value, rc.value]).toEqual(["a", "c"]);
    expect(settled).toEqual(["b", "d", "a", "c"]);
    expect(ra.thread).toBe(rc.thread);
    expect((await pb).thread).toBe((await pd).thread);
    expect(ra.thread).not.toBe((await pb).thread);
  });

  it("sends work to the least loaded worker, by weight", async () => {
    const p = pool(2);
    const heavy = gated("heavy");
    const first = p.post(heavy.job, 5);
    // While the heavy job is out, both light ones go to the other worker.
    const [x, y] = await Promise.all([p.post(echo("x")), p.post(echo("y"))]);
    expect(x.thread).toBe(y.thread);
    heavy.open();
    expect((await first).thread).not.toBe(x.thread);
  });

  it.each([false, true])(
    "counts a worker's load until its reply (counted by the worker: %s)",
    async (countedByWorker) => {
      const p = pool(1, { countedByWorker });
      const job = gated("held");
      const reply = p.post(job.job);
      expect(p.busy(0)).toBe(true);
      job.open();
      await reply;
      expect(p.busy(0)).toBe(false);
    },
  );

  it("rejects a job whose reply the answer refuses, and only that one", async () => {
    const p = pool(1);
    await expect(p.post(echo("refuse"))).rejects.toMatchObject({ code: "INPUT_INVALID" });
    expect((await p.post(echo("ok"))).value).toBe("ok");
  });

  it.each([
    { kind: "throw", job: { id: 0, kind: "throw", message: "boom" }, why: "boom" },
    { kind: "exit", job: { id: 0, kind: "exit", code: 3 }, why: "test worker exited with code 3" },
  ] as const)(
    "a worker that dies ($kind) fails its own jobs only, with a coded error",
    async ({ job, why }) => {
      const p = pool(2);
      // b (weight 3) → Y; the fatal job and c → X, the less loaded.
      const b = gated("b");
      const pb = p.post(b.job, 3);
      const fatal = p.post({ ...job });
      const pc = p.post(echo("c"));
      const failure = { name: "RadledgerError", code: "INTERNAL", message: `test worker failed: ${why}` };
      await expect(fatal).rejects.toMatchObject(failure);
      await expect(pc).rejects.toMatchObject(failure);
      b.open();
      const rb = await pb;
      expect(rb.value).toBe("b");
      // The dead worker takes no more work: the survivor does it.
      expect((await p.post(echo("after"))).thread).toBe(rb.thread);
    },
  );

  it("refuses work once no worker is left", async () => {
    const p = pool(1);
    await expect(p.post({ id: 0, kind: "exit", code: 3 })).rejects.toMatchObject({ code: "INTERNAL" });
    await expect(p.post(echo("late"))).rejects.toMatchObject({
      code: "INTERNAL",
      message: "test worker failed: test worker exited with code 3",
    });
  });

  it("close refuses the jobs out and any new work, and may be called twice", async () => {
    const p = pool(2);
    const held = gated("held");
    const out = p.post(held.job);
    const closing = p.close();
    expect(p.closed).toBe(true);
    expect(p.close()).toBe(closing);
    const closed = { name: "RadledgerError", code: "NODE_CLOSED", message: "the test pool is closed" };
    await expect(out).rejects.toMatchObject(closed);
    await expect(p.post(echo("late"))).rejects.toMatchObject(closed);
    held.open();
    await closing;
    await p.close();
  });
});
