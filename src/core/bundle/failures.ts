/**
 * The bundle verifier's failure list (docs/bundle-format.md §4: "report every failure with the file
 * concerned"): capped, and ordered by the archive position of the file each failure concerns, since
 * entry checks that run in parallel report late. Also the Fatal stop for a broken layout (§4 step 1).
 */
import { isRadledgerError, type ErrorCode } from "../errors.js";
import type { BundleFailure } from "./types.js";

const MAX_FAILURES = 200;

export class Failures {
  readonly list: BundleFailure[] = [];
  more = 0;

  add(code: ErrorCode, message: string, at?: string): void {
    if (this.list.length >= MAX_FAILURES) {
      this.more++;
      return;
    }
    this.list.push(at === undefined ? { code, message } : { code, message, at });
  }

  addError(e: unknown, at: string): void {
    if (isRadledgerError(e)) this.add(e.code, `${at}: ${e.message}`, at);
    else this.add("BUNDLE_MALFORMED", `${at}: ${e instanceof Error ? e.message : String(e)}`, at);
  }

  get count(): number {
    return this.list.length + this.more;
  }

  /**
   * The failures in archive order of the files they concern (checks that run in parallel report
   * late), so that the first failure is the first place where the bundle is wrong.
   */
  ordered(positions: ReadonlyMap<string, number>): BundleFailure[] {
    const rank = (f: BundleFailure): number => {
      const at = f.at ?? "";
      const p = positions.get(at) ?? positions.get(at.split(":")[0]!);
      if (p !== undefined) return p;
      if (at.startsWith("images/")) return positions.size + 1;
      return at === "--against" ? positions.size + 3 : positions.size + 2;
    };
    return this.list
      .map((f, i) => ({ f, i, r: rank(f) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.f);
  }
}

/** A stop after which nothing further can be checked meaningfully (the layout is broken). */
export class Fatal extends Error {}
