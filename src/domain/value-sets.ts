/**
 * Value sets: the closed lists of codes a "reason" (and similar) field may carry, so that no free
 * text can ride on the log inside a code (docs/design.md §2.9). Each family defines its own sets
 * beside its entries and documents them in docs/families/<family>.md; free text a workflow needs
 * (a break-glass justification, a correction's explanation) goes to the vault and only its
 * commitment on the log.
 *
 * New appends and stored history are checked differently. Logs written before a field became a
 * value set may hold other short codes, and the log is replayed to rebuild state (the whole-log audit,
 * mirrors of peers): those entries must keep replaying. So the body schema a worker checks accepts
 * the set's members and, as legacy, any short code (src/domain/schemas.ts `code`); the family's
 * `apply` then calls `requireMember`, which refuses a non-member with ENTRY_SCHEMA_INVALID on a new
 * append and lets it through only when the ledger replays stored history (ApplyContext.replay). API
 * and CLI request schemas use `set.schema` (members only), so a client learns of a bad code first.
 */
import { z } from "zod";
import type { ApplyContext } from "./ledger/entry-types.js";
import { code } from "./schemas.js";

export interface ValueSet<T extends string> {
  /** What the codes are, for messages and docs (e.g. "break-glass reason"). */
  readonly name: string;
  readonly values: readonly T[];
  /** Members only: for API and CLI requests. */
  readonly schema: z.ZodType<T>;
  /** Body schema: members, or a legacy short code (refused by `requireMember` on new appends). */
  readonly body: z.ZodType<string>;
  has(value: string): value is T;
}

export function defineValueSet<const T extends string>(
  name: string,
  values: readonly [T, ...T[]],
): ValueSet<T> {
  const schema = z.enum(values as unknown as [T, ...T[]]) as unknown as z.ZodType<T>;
  return {
    name,
    values,
    schema,
    body: z.union([schema, code.describe(`legacy ${name} code: accepted on replay only`)]),
    has: (value): value is T => (values as readonly string[]).includes(value),
  };
}

/**
 * At append: `value` must be a member of `set`; a legacy code passes only on replay of stored
 * history. `at` names the field (e.g. "body.reason").
 */
export function requireMember<T extends string>(
  ctx: ApplyContext<unknown>,
  set: ValueSet<T>,
  value: string | undefined,
  at: string,
): void {
  if (value === undefined || set.has(value) || ctx.replay === true) return;
  ctx.reject(
    "ENTRY_SCHEMA_INVALID",
    `${at}: ${JSON.stringify(value)} is not a ${set.name} code (one of ${set.values.join(", ")})`,
    { at },
  );
}
