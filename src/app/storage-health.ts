/**
 * Whether the node's disk takes writes: the readiness the API reports at /readyz and the one line an
 * operator reads when it changes. It learns from every write's outcome (the SQLite adapters report
 * each commit of the log and each vault write, src/adapters/sqlite/open.ts guardWrite) and, while a
 * write has failed, from a cheap probe — a write that changes nothing — run at most once per
 * `probeIntervalMs` when readiness is asked. So a full or read-only disk makes the node unready at
 * its first refused write, and space or permission coming back makes it ready at the next probe or
 * successful write, with no restart.
 *
 * The cause is logged once per transition (not per request): the first refused write, a change of
 * cause, and the recovery. A healthy node does not probe: readiness then is the last write's outcome.
 */
import type { ErrorCode, RadledgerError } from "../core/errors.js";

export interface StorageStatus {
  readonly ready: boolean;
  /** STORE_FULL or STORE_IO while not ready. */
  readonly code?: ErrorCode;
  /** SQLite's (or the system's) code, e.g. SQLITE_FULL, SQLITE_READONLY, EROFS. */
  readonly cause?: string;
  /** What an operator reads, without the file's path (readiness is public). */
  readonly reason?: string;
}

export interface StorageHealthOptions {
  /** A write that changes nothing on each database; its outcome reaches `observe` through the adapters. */
  readonly probe: () => void;
  /** Where the transition lines go (serve: stderr). */
  readonly log: (line: string) => void;
  readonly now?: () => number;
  /** At most one probe per this many milliseconds (default 1,000): /readyz is public. */
  readonly probeIntervalMs?: number;
}

interface Fault {
  readonly code: ErrorCode;
  readonly cause: string;
}

function faultOf(error: RadledgerError): Fault {
  const sqlite = error.details.sqlite;
  return { code: error.code, cause: typeof sqlite === "string" ? sqlite : error.code };
}

function describe(fault: Fault): string {
  return fault.code === "STORE_FULL"
    ? `storage full (${fault.cause})`
    : `storage not writable (${fault.cause}: read-only or failing)`;
}

export class StorageHealth {
  /** Failed databases by path: the node is ready when none is left. */
  readonly #faults = new Map<string, Fault>();
  #lastProbe = Number.NEGATIVE_INFINITY;
  readonly #o: StorageHealthOptions;

  constructor(options: StorageHealthOptions) {
    this.#o = options;
  }

  /** The adapters' WriteObserver: a write to `path` failed with `fault`, or (undefined) succeeded. */
  readonly observe = (path: string, fault: RadledgerError | undefined): void => {
    const before = this.#faults.get(path);
    if (fault === undefined) {
      if (before === undefined) return;
      this.#faults.delete(path);
      this.#o.log(`radledger: storage writable again on ${path}: writes accepted`);
      return;
    }
    const now = faultOf(fault);
    if (before?.code === now.code && before.cause === now.cause) return;
    this.#faults.set(path, now);
    const refused = now.code === "STORE_FULL" ? "until space returns" : "until it is writable again";
    this.#o.log(`radledger: ${describe(now)} on ${path}: appends refused ${refused}`);
  };

  /** Readiness: after a refused write, a probe (throttled) first learns whether the disk is back. */
  status(): StorageStatus {
    if (this.#faults.size > 0) {
      const now = (this.#o.now ?? Date.now)();
      if (now - this.#lastProbe >= (this.#o.probeIntervalMs ?? 1000)) {
        this.#lastProbe = now;
        try {
          this.#o.probe();
        } catch {
          // the probe's outcome reached observe(); a failure keeps the node unready
        }
      }
    }
    const [fault] = this.#faults.values();
    if (fault === undefined) return { ready: true };
    return {
      ready: false,
      code: fault.code,
      cause: fault.cause,
      reason: `${describe(fault)}: appends refused ${fault.code === "STORE_FULL" ? "until space returns" : "until the data directory is writable again"}`,
    };
  }
}
