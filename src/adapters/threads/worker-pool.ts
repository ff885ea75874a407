/**
 * The worker-thread pool that the entry verifier, the bundle check pool and the DICOM hash pool
 * share: it starts the workers, numbers the jobs, routes each reply to its job's promise, sends each
 * job to the least loaded worker, fails a worker's jobs (and only those) when the worker dies, and
 * refuses work once closed. What the jobs are, how they are packed and what their replies mean
 * stays with each pool.
 *
 * A worker answers a job with one message that carries the job's `id`. Its load is the weight of
 * the jobs posted to it and not yet finished: a pool weighs a job by its size when sizes differ
 * (entries to verify) or counts jobs.
 */
import { RadledgerError } from "../../core/errors.js";
import { startModuleWorker } from "./worker-start.js";
import type { Transferable, Worker } from "node:worker_threads";

export interface WorkerPoolOptions<Reply, Result> {
  /** Base name of the worker module, beside the module at `callerUrl` (see worker-start.ts). */
  readonly module: string;
  readonly callerUrl: string;
  /** Number of workers (at least one is started). */
  readonly workers: number;
  /** The workers' name in errors: "verification worker" → "verification worker failed: …". */
  readonly name: string;
  /** Message of the NODE_CLOSED error that refuses work after close. */
  readonly closedMessage: string;
  /**
   * Workers count the weight they finish themselves, in the counter of their workerData
   * (CountingWorkerData), so that a worker's load is current even while this thread is busy and
   * the replies wait in its event queue. Otherwise a job counts as finished when its reply is read.
   */
  readonly countedByWorker?: boolean;
  /** Turns a reply into the job's result; what it throws rejects the job. */
  readonly answer: (reply: Reply) => Result;
}

/**
 * workerData of a pool whose workers count what they finish: after answering a job of weight w,
 * the worker does Atomics.add(new Int32Array(finished), 0, w).
 */
export interface CountingWorkerData {
  readonly finished: SharedArrayBuffer;
}

interface Slot {
  readonly worker: Worker;
  /** Weight posted to the worker, modulo 2^32 like `finished` (a node runs for months). */
  posted: number;
  /** Weight the worker has finished: shared with it when it counts, else counted here. */
  readonly finished: Int32Array;
}

interface Pending<Result> {
  readonly slot: Slot;
  readonly weight: number;
  resolve(result: Result): void;
  reject(e: Error): void;
}

export class WorkerPool<Job extends { id: number }, Reply extends { readonly id: number }, Result> {
  /** Every worker started, for close. */
  readonly #slots: Slot[] = [];
  /** The workers that take jobs: a worker that failed is no longer one of them. */
  readonly #live: Slot[] = [];
  readonly #jobs = new Map<number, Pending<Result>>();
  readonly #name: string;
  readonly #closedMessage: string;
  readonly #countedByWorker: boolean;
  readonly #answer: (reply: Reply) => Result;
  /** Why the last worker failed: the answer to work that finds no worker left. */
  #lastFailure: RadledgerError | undefined;
  #nextId = 1;
  #closing: Promise<void> | undefined;

  constructor(options: WorkerPoolOptions<Reply, Result>) {
    this.#name = options.name;
    this.#closedMessage = options.closedMessage;
    this.#countedByWorker = options.countedByWorker === true;
    this.#answer = options.answer;
    for (let i = 0; i < Math.max(1, options.workers); i++) {
      const counter = new SharedArrayBuffer(4);
      const workerData: CountingWorkerData | undefined = this.#countedByWorker
        ? { finished: counter }
        : undefined;
      const worker = startModuleWorker(options.module, options.callerUrl, workerData);
      const slot: Slot = { worker, posted: 0, finished: new Int32Array(counter) };
      worker.on("message", (reply: Reply) => this.#settle(slot, reply));
      worker.on("error", (e) => this.#fail(slot, e));
      worker.on("exit", (code) => {
        if (this.#closing === undefined)
          this.#fail(slot, new Error(`${this.#name} exited with code ${code}`));
      });
      this.#slots.push(slot);
      this.#live.push(slot);
    }
  }

  /** Number of workers started. */
  get size(): number {
    return this.#slots.length;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The error that refuses work after close. */
  closedError(): RadledgerError {
    return new RadledgerError("NODE_CLOSED", this.#closedMessage);
  }

  /**
   * Whether every worker has a load above `depth`: counting jobs, the one it runs and those queued
   * behind it. True when no worker is left.
   */
  busy(depth: number): boolean {
    for (const slot of this.#live) if (this.#load(slot) <= depth) return false;
    return true;
  }

  /**
   * Posts `job`, numbered here (its `id` is overwritten), to the least loaded worker. Not an async
   * function, whose frame would hold `job` until the reply: only the promise's settlers wait.
   */
  post(job: Job, weight = 1, transfer?: readonly Transferable[]): Promise<Result> {
    if (this.#closing !== undefined) return Promise.reject(this.closedError());
    let slot: Slot | undefined;
    let least = Infinity;
    for (const s of this.#live) {
      const load = this.#load(s);
      if (load < least) {
        slot = s;
        least = load;
      }
    }
    if (slot === undefined) return Promise.reject(this.#lastFailure!);
    const target = slot;
    const id = this.#nextId++;
    job.id = id;
    return new Promise<Result>((resolve, reject) => {
      // Posted first: a job that cannot be cloned throws here and leaves nothing behind.
      target.worker.postMessage(job, transfer);
      target.posted = (target.posted + weight) | 0;
      this.#jobs.set(id, { slot: target, weight, resolve, reject });
    });
  }

  /** Ends the workers and rejects the jobs still out; a second call gets the first one's promise. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      const refused = this.closedError();
      for (const job of this.#jobs.values()) job.reject(refused);
      this.#jobs.clear();
      this.#closing = Promise.all(this.#slots.map((s) => s.worker.terminate())).then(() => undefined);
    }
    return this.#closing;
  }

  /** Int32 arithmetic: right across the wrap of either count. */
  #load(slot: Slot): number {
    return (slot.posted - Atomics.load(slot.finished, 0)) | 0;
  }

  #settle(slot: Slot, reply: Reply): void {
    const job = this.#jobs.get(reply.id);
    if (job === undefined) return;
    this.#jobs.delete(reply.id);
    if (!this.#countedByWorker) slot.finished[0] = slot.finished[0]! + job.weight;
    let result: Result;
    try {
      result = this.#answer(reply);
    } catch (e) {
      job.reject(e as Error);
      return;
    }
    job.resolve(result);
  }

  /** A worker that errs or exits unasked fails its own jobs and takes no more. */
  #fail(slot: Slot, e: Error): void {
    const at = this.#live.indexOf(slot);
    // An error is followed by an exit: the first tells why.
    if (at < 0) return;
    this.#live.splice(at, 1);
    const failure = new RadledgerError("INTERNAL", `${this.#name} failed: ${e.message}`, {}, { cause: e });
    this.#lastFailure = failure;
    for (const [id, job] of this.#jobs) {
      if (job.slot !== slot) continue;
      this.#jobs.delete(id);
      job.reject(failure);
    }
  }
}
