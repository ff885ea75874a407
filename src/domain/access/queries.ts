/**
 * Access queries: a patient's access history (who, when, what part, why), the break-glass review
 * queue, and the accesses of one actor. Histories page newest first by default; the review queue
 * pages oldest first (first in, first reviewed). `next` is the last seq (log index) of a page, passed
 * back as `after`.
 */
import { RadledgerError } from "../../core/errors.js";
import type { IndexRow, StateReader } from "../../ports/storage.js";
import { getActor } from "../identity/state.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import { BREAK_GLASS_QUEUE, getAccess, type AccessDoc } from "./state.js";

export interface AccessPageOptions extends PageOptions {
  /** Log order instead of newest first. */
  readonly oldestFirst?: boolean;
}

export interface AccessView extends Omit<AccessDoc, "actor"> {
  /**
   * The accessing actor: id, and display name, kind and roles when the actor is enrolled (never a
   * patient's name) — the patient's "who looked at my record" shows name and role (issue 20).
   */
  readonly who: {
    readonly actor: string;
    readonly displayName?: string;
    readonly kind?: string;
    readonly roles?: readonly string[];
  };
}

export function requireAccess(state: StateReader, id: string): AccessDoc {
  const access = getAccess(state, id);
  if (!access) throw new RadledgerError("RECORD_NOT_FOUND", `no access record ${id}`);
  return access;
}

/** Maps index rows (value: an access id) to views naming the accessing actor; caches actor lookups. */
export function viewer(state: StateReader): (row: IndexRow) => AccessView {
  const names = new Map<string, AccessView["who"]>();
  return (row) => {
    const { actor, ...rest } = getAccess(state, row.value)!;
    let who = names.get(actor);
    if (!who) {
      const doc = getActor(state, actor);
      who = {
        actor,
        ...(typeof doc?.displayName === "string" ? { displayName: doc.displayName } : {}),
        ...(doc ? { kind: doc.kind, roles: doc.roles } : {}),
      };
      names.set(actor, who);
    }
    return { ...rest, who };
  };
}

function list(
  state: StateReader,
  name: string,
  key: string,
  options: AccessPageOptions,
  newestFirst: boolean,
): Page<AccessView> {
  const o = lookupOptions(options);
  const rows = state.lookup(name, key, { ...o, limit: o.limit + 1, reverse: newestFirst });
  return page(rows, o.limit, viewer(state));
}

/** Who accessed which part of a patient's record, when, for what purpose, and on what basis. */
export function accessHistory(
  state: StateReader,
  patient: string,
  options: AccessPageOptions = {},
): Page<AccessView> {
  return list(state, "access.patient", patient, options, !options.oldestFirst);
}

/** Break-glass permits not yet reviewed, oldest first. */
export function breakGlassQueue(state: StateReader, options: PageOptions = {}): Page<AccessView> {
  return list(state, BREAK_GLASS_QUEUE, "", options, false);
}

/** Every access decision about one actor, permits and denies. */
export function accessesByActor(
  state: StateReader,
  actor: string,
  options: AccessPageOptions = {},
): Page<AccessView> {
  return list(state, "access.actor", actor, options, !options.oldestFirst);
}
