/**
 * CLI output conventions: results on stdout (human text, or one JSON document with --json),
 * progress and diagnostics on stderr, and exit codes by error category (docs/errors.md).
 */
import { ERROR_CODES, toRadledgerError, type ErrorCategory, type RadledgerError } from "../core/errors.js";

export const EXIT_BY_CATEGORY: Record<ErrorCategory, number> = {
  verification: 1,
  untrusted: 8,
  invalid: 2,
  unsupported_media: 2,
  too_large: 2,
  headers_too_large: 2,
  not_found: 3,
  conflict: 4,
  unavailable: 5,
  rate_limited: 5,
  unauthenticated: 6,
  forbidden: 6,
  unprocessable: 7,
  internal: 70,
};

/** An error whose JSON result is already on stdout: only its message goes to stderr. */
export class AlreadyReported extends Error {
  constructor(readonly error: RadledgerError) {
    super(error.message);
  }
}

/** Prints a coded error to stderr and returns the exit code for it. */
export function reportError(e: unknown, json = false): number {
  if (e instanceof AlreadyReported) {
    process.stderr.write(`radledger: ${e.error.code}: ${e.error.message}\n`);
    return EXIT_BY_CATEGORY[ERROR_CODES[e.error.code]];
  }
  const err = toRadledgerError(e);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: err.toJSON() }) + "\n");
  const detail = err.code === "INTERNAL" && e instanceof Error && e.stack ? `\n${e.stack}` : "";
  process.stderr.write(`radledger: ${err.code}: ${err.message}${detail}\n`);
  return EXIT_BY_CATEGORY[ERROR_CODES[err.code]];
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** A progress line on stderr: redrawn in place on a terminal, one line every few seconds otherwise. */
export class Progress {
  #last = 0;
  readonly #start = Date.now();

  constructor(
    private readonly label: string,
    private readonly unit = "entries",
    private readonly enabled = true,
  ) {}

  update(done: number, total: number, extra = ""): void {
    if (!this.enabled) return;
    const now = Date.now();
    const tty = process.stderr.isTTY;
    if (done < total && now - this.#last < (tty ? 100 : 5000)) return;
    this.#last = now;
    const seconds = (now - this.#start) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    const width = 24;
    const filled = Math.round((pct / 100) * width);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
    const line = `${this.label} ${bar} ${pct}% ${done}/${total} ${this.unit} ${rate}/s${extra ? " " + extra : ""}`;
    process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
  }

  done(): void {
    if (this.enabled && process.stderr.isTTY) process.stderr.write("\n");
  }
}
