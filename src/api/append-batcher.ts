/**
 * Coalesces the appends of concurrent API requests: every entry submitted during one turn of the
 * event loop goes to the ledger in one Ledger.append call, so that many requests share one
 * verification message to the worker threads and one durable batch, as a bulk append does. Each
 * caller still gets its own result — its index, or its own coded refusal — once the batch is durable.
 */
import type { Ledger } from "../domain/ledger/ledger.js";

interface Waiting {
  readonly bytes: Uint8Array;
  /** JSON.parse of bytes when the caller has it (see Ledger.append). */
  readonly parsed: unknown;
  resolve(result: { index: number; leafHash: string }): void;
  reject(error: unknown): void;
}

export class AppendBatcher {
  #queue: Waiting[] = [];
  #scheduled = false;

  constructor(private readonly ledger: Ledger) {}

  append(bytes: Uint8Array, parsed?: unknown): Promise<{ index: number; leafHash: string }> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes, parsed, resolve, reject });
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
    this.ledger
      .append(
        batch.map((w) => w.bytes),
        batch.map((w) => w.parsed),
      )
      .then(
        (results) =>
          results.forEach((r, i) => {
            if (r.ok) batch[i]!.resolve({ index: r.index, leafHash: r.leafHash });
            else batch[i]!.reject(r.error);
          }),
        (e: unknown) => {
          for (const w of batch) w.reject(e);
        },
      );
  }
}
