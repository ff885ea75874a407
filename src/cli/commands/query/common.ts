/**
 * What every `radledger query …` subcommand shares: --data and --json, --limit/--after paging, and
 * the run itself — the log opened read-only for the one query and closed after it, the answer printed
 * as one JSON document with --json, otherwise as lines for a person.
 */
import type { Command } from "commander";
import { RadledgerError } from "../../../core/errors.js";
import type { PageOptions } from "../../../domain/paging.js";
import { openReadOnly, type ReadOnlyLog } from "../../../wiring/read-only.js";
import { requireKnownPatient } from "../../../domain/patients.js";
import { pseudonym } from "../../../domain/schemas.js";
import { printJson } from "../../output.js";
import { recordCliRead } from "../../audit.js";

/** What a query has to work with; `O` are its own options (commander's camel-cased names). */
export interface QueryInput<O = object> {
  readonly log: ReadOnlyLog;
  readonly o: O & { readonly data: string; readonly json?: boolean };
  /** The positional arguments: a `<required>` one is always there (commander checks it). */
  readonly args: readonly string[];
  /** --limit and --after, checked; empty unless the query is paged. */
  readonly page: PageOptions;
}

export interface QuerySpec<O, R> {
  /** The subcommand with its arguments, e.g. "report <id>". */
  readonly command: string;
  readonly description: string;
  /** The query's own options: added first, so --help lists them before paging, --data and --json. */
  readonly options?: (c: Command) => Command;
  /** Adds --limit and --after, checked into `page`. */
  readonly paged?: boolean;
  /** The answer: what --json prints. */
  readonly answer: (q: QueryInput<O>) => R;
  /** The answer as lines for a person. */
  readonly print: (r: R, q: QueryInput<O>) => void;
}

export const out = (line = ""): void => {
  process.stdout.write(line + "\n");
};
export const short = (id: string): string => id.slice(0, 12);

function pageOptions(o: { limit?: string; after?: string }): PageOptions {
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d{1,15}$/.test(v))
      throw new RadledgerError("CLI_USAGE", `--${name} must be a non-negative integer`);
    return Number(v);
  };
  const limit = num(o.limit, "limit");
  const after = num(o.after, "after");
  return { ...(limit === undefined ? {} : { limit }), ...(after === undefined ? {} : { after }) };
}

/**
 * The --patient of a query, checked: a patient pseudonym (CLI_USAGE otherwise) that this log knows
 * (PATIENT_UNKNOWN otherwise, src/domain/patients.ts) — never an empty answer about a typo.
 */
export function knownPatient(log: ReadOnlyLog, text: string): string {
  if (!pseudonym.safeParse(text).success)
    throw new RadledgerError(
      "CLI_USAGE",
      "--patient must be a patient pseudonym (pt_ followed by 43 base64url characters)",
    );
  requireKnownPatient(log.store, text);
  return text;
}

/** The queries that read access records: each run is one use of the audit trail (DICOM 110101). */
const AUDIT_TRAIL_QUERIES = new Set(["access-history", "break-glass-queue", "accesses-by-actor"]);

/** Adds `radledger query <spec.command>`. */
export function defineQuery<O, R>(query: Command, spec: QuerySpec<O, R>): void {
  const c = query.command(spec.command).description(spec.description);
  spec.options?.(c);
  if (spec.paged) c.option("--limit <n>").option("--after <cursor>");
  c.requiredOption("--data <dir>", "data directory").option("--json", "print one JSON document");
  c.action(async () => {
    const o = c.opts<QueryInput<O>["o"]>();
    const log = openReadOnly(o.data);
    try {
      // Options are checked once the log is open: a missing data directory is reported first.
      const q: QueryInput<O> = {
        log,
        o,
        args: c.processedArgs as string[],
        page: spec.paged ? pageOptions(c.opts()) : {},
      };
      const r = spec.answer(q);
      // On the log before it is printed (docs/audit.md "What is recorded when"): one event per run.
      const verb = spec.command.split(" ")[0]!;
      const patient = (o as { patient?: unknown }).patient;
      await recordCliRead(o.data, {
        event: AUDIT_TRAIL_QUERIES.has(verb) ? "audit-log-used" : "query",
        verb: `query ${verb}`,
        ...(typeof patient === "string" && pseudonym.safeParse(patient).success ? { patient } : {}),
      });
      if (o.json) printJson(r);
      else spec.print(r, q);
    } finally {
      log.close();
    }
  });
}
