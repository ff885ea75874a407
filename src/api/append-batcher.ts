/**
 * Coalesces the appends of concurrent API requests: every entry submitted during one turn of the
 * event loop goes to the ledger in one Ledger.append call, so that many requests share one
 * verification message to the worker threads and one durable batch, as a bulk append does. Each
 * caller still gets its own result — its index, or its own coded refusal — once the batch is durable.
 * A turn's entries are split into one verification request per core (at least 16 entries each), so
 * that every verification thread works on them at once rather than one thread on the whole turn.
 */
import { availableParallelism } from "node:os";
import type { Ledger } from "../domain/ledger/ledger.js";

interface Waiting {
  readonly bytes: Uint8Array;
  resolve(result: { index: number; leafHash: string }): void;
  reject(error: unknown): void;
}

export class AppendBatcher {
  #queue: Waiting[] = [];
  #scheduled = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly parallelism = availableParallelism(),
  ) {}

  append(bytes: Uint8Array): Promise<{ index: number; leafHash: string }> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    const parts = Math.max(1, Math.min(this.parallelism, Math.floor(batch.length / 16)));
    const size = Math.ceil(batch.length / parts);
    for (let start = 0; start < batch.length; start += size) {
      const part = batch.slice(start, start + size);
      this.ledger.append(part.map((w) => w.bytes)).then(
        (results) =>
          results.forEach((r, i) => {
            if (r.ok) part[i]!.resolve({ index: r.index, leafHash: r.leafHash });
            else part[i]!.reject(r.error);
          }),
        (e: unknown) => {
          for (const w of part) w.reject(e);
        },
      );
    }
  }
}
