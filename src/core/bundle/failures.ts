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
    // Within an entries/<k> file, by log index (`entries/<k>:<index>`): a signature verdict that
    // arrives after the kind's checks still comes before a failure it causes further on.
    const entryIndex = (f: BundleFailure): number => {
      const colon = f.at?.indexOf(":") ?? -1;
      const index = colon < 0 ? NaN : Number(f.at!.slice(colon + 1));
      return Number.isSafeInteger(index) ? index : -1;
    };
    return this.list
      .map((f, i) => ({ f, i, r: rank(f), e: entryIndex(f) }))
      .sort((a, b) => a.r - b.r || a.e - b.e || a.i - b.i)
      .map((x) => x.f);
  }
}

/** A stop after which nothing further can be checked meaningfully (the layout is broken). */
export class Fatal extends Error {}
